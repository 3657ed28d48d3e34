/** The part of pg's Pool the batcher uses. */
export interface PgHitQueryable {
  query<R extends Record<string, unknown>>(text: string, values: unknown[]): Promise<{ rows: R[] }>;
}

/** One counted hit: its count in the window and the time left (ms), on the database's clock. */
export interface CountedHit {
  hits: number;
  ttlMs: number;
}

/**
 * Every key of a batch counted in ONE statement, atomic under concurrency (each upsert locks its
 * row): a key hit k times in the batch gets +k, or starts a new window at k once its window is
 * over. The keys go in sorted order, so two statements (of this instance or another) lock shared
 * rows in the same order and cannot deadlock. Times are on the database's clock, so instances with
 * skewed clocks agree.
 */
const HITS_SQL = `
INSERT INTO "rate_limit_counters" AS c ("key", "hits", "window_ends_at")
SELECT i."key", i."k", clock_timestamp() + i."ttl" * interval '1 millisecond'
FROM unnest($1::varchar[], $2::int[], $3::float8[]) AS i("key", "k", "ttl")
ORDER BY i."key"
ON CONFLICT ("key") DO UPDATE SET
  "hits" = CASE WHEN c."window_ends_at" <= clock_timestamp()
    THEN EXCLUDED."hits" ELSE c."hits" + EXCLUDED."hits" END,
  "window_ends_at" = CASE WHEN c."window_ends_at" <= clock_timestamp()
    THEN EXCLUDED."window_ends_at" ELSE c."window_ends_at" END
RETURNING c."key", c."hits",
  ceil(extract(epoch FROM c."window_ends_at" - clock_timestamp()) * 1000)::float8 AS "ttl_ms"`;

/** At most this many distinct keys share one statement. */
const MAX_KEYS_PER_STATEMENT = 500;

interface Waiter {
  resolve: (hit: CountedHit) => void;
  reject: (error: unknown) => void;
}

/** The hits of one key waiting for the next statement, all with one window length. */
interface PendingKey {
  ttl: number;
  waiters: Waiter[];
}

/**
 * Group commit for rate-limit hits: hits gather during a turn of the event loop (and while a
 * statement is in flight) and go in one statement. A key hit k times gets one row with k; its
 * callers get consecutive counts (total - k + 1, ..., total) in the order they asked, exactly what
 * k statements one after the other would have returned. A hit whose key already waits with
 * another window length (a method's own @Throttle ttl) waits for the following statement.
 */
export class PostgresHitBatcher {
  private pending = new Map<string, PendingKey>();
  /** Hits that wait for the statement after next (see `add`). */
  private deferred: Array<{ key: string; ttl: number; waiter: Waiter }> = [];
  private draining?: Promise<void>;
  /** Statements run and hits they carried, for tests and profiles. */
  readonly stats = { statements: 0, hits: 0 };

  constructor(private readonly pool: PgHitQueryable) {}

  hit(key: string, ttl: number): Promise<CountedHit> {
    return new Promise<CountedHit>((resolve, reject) => {
      this.add(key, ttl, { resolve, reject });
      this.draining ??= this.drain();
    });
  }

  private add(key: string, ttl: number, waiter: Waiter): void {
    const entry = this.pending.get(key);
    if (entry === undefined) this.pending.set(key, { ttl, waiters: [waiter] });
    else if (entry.ttl === ttl) entry.waiters.push(waiter);
    // Rare: the same key with another window; one statement may update a row only once.
    else this.deferred.push({ key, ttl, waiter });
  }

  /** Resolves once every hit asked so far has been counted (or failed). */
  async flushed(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    // Let this turn of the event loop finish, so that the calls read in it share a statement.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.size > 0 || this.deferred.length > 0) {
      const batch = this.take();
      if (batch.size > 0) await this.run(batch);
    }
    // Checked and cleared in one synchronous step, so a hit asked later starts a drain.
    this.draining = undefined;
  }

  private take(): Map<string, PendingKey> {
    let batch: Map<string, PendingKey>;
    if (this.pending.size <= MAX_KEYS_PER_STATEMENT) {
      batch = this.pending;
      this.pending = new Map();
    } else {
      batch = new Map();
      for (const [key, entry] of this.pending) {
        if (batch.size === MAX_KEYS_PER_STATEMENT) break;
        batch.set(key, entry);
        this.pending.delete(key);
      }
    }
    const deferred = this.deferred;
    this.deferred = [];
    for (const { key, ttl, waiter } of deferred) this.add(key, ttl, waiter);
    return batch;
  }

  private async run(batch: Map<string, PendingKey>): Promise<void> {
    const keys = [...batch.keys()].sort();
    this.stats.statements++;
    try {
      const { rows } = await this.pool.query<{ key: string; hits: number; ttl_ms: number }>(
        HITS_SQL,
        [
          keys,
          keys.map((key) => batch.get(key)!.waiters.length),
          keys.map((key) => batch.get(key)!.ttl),
        ],
      );
      for (const row of rows) {
        const { waiters } = batch.get(row.key)!;
        this.stats.hits += waiters.length;
        const first = row.hits - waiters.length + 1;
        waiters.forEach((waiter, i) => waiter.resolve({ hits: first + i, ttlMs: row.ttl_ms }));
        batch.delete(row.key);
      }
      if (batch.size > 0) throw new Error(`rate-limit statement left ${batch.size} keys uncounted`);
    } catch (error) {
      for (const { waiters } of batch.values()) for (const waiter of waiters) waiter.reject(error);
    }
  }
}
