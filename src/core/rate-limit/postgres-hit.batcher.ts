import type { PairedHit } from './rate-limit.store.js';

/** The part of pg's Pool the batcher uses. */
export interface PgHitQueryable {
  query<R extends Record<string, unknown>>(config: {
    name: string;
    text: string;
    values: unknown[];
  }): Promise<{ rows: R[] }>;
}

/** One counted hit: its count in the window and the time left (ms), on the database's clock. */
export interface CountedHit {
  hits: number;
  ttlMs: number;
}

/**
 * A call's hits: the first always, the second (a call's session limit after its client limit)
 * only when the first was within its limit, as if counted one after the other.
 */
export interface HitPair {
  first: CountedHit;
  /** Undefined when there was no second hit, or the first was over its limit. */
  second?: CountedHit;
}

/** Counts a key hit k times in this statement (+k, or k in a new window once the old is over). */
const upsert = (source: string): string => `
  INSERT INTO "rate_limit_counters" AS r ("key", "hits", "window_ends_at")
  ${source}
  ON CONFLICT ("key") DO UPDATE SET
    "hits" = CASE WHEN r."window_ends_at" <= clock_timestamp()
      THEN EXCLUDED."hits" ELSE r."hits" + EXCLUDED."hits" END,
    "window_ends_at" = CASE WHEN r."window_ends_at" <= clock_timestamp()
      THEN EXCLUDED."window_ends_at" ELSE r."window_ends_at" END
  RETURNING r."key", r."hits",
    ceil(extract(epoch FROM r."window_ends_at" - clock_timestamp()) * 1000)::float8 AS "ttl_ms"`;

/**
 * The calls of a batch counted in ONE statement, atomic under concurrency (each upsert locks its
 * row): first every call's first key, grouped (a key hit k times gets one row with k); then the
 * second keys of the calls whose first hit was within its limit (its count is the key's new total
 * minus the hits after it in call order). Keys are upserted in sorted order so that statements
 * locking shared rows take them in one order; a deadlock that a mix still causes is run again.
 * Times are on the database's clock, so instances with skewed clocks agree.
 *
 * $1 first keys, $2 their windows (ms), $3 their limits, $4 second keys (null: none), $5 their
 * windows; one element per call, in call order.
 */
const HITS_SQL = `
WITH calls AS (
  SELECT * FROM unnest($1::varchar[], $2::float8[], $3::int[], $4::varchar[], $5::float8[])
    WITH ORDINALITY AS c(key1, ttl1, limit1, key2, ttl2, ord)
),
first AS (${upsert(`SELECT c.key1, count(*)::int, clock_timestamp() + min(c.ttl1) * interval '1 millisecond'
  FROM calls c GROUP BY c.key1 ORDER BY c.key1`)}
),
counted AS (
  SELECT c.key2, c.ttl2
  FROM (
    SELECT c.*, row_number() OVER (PARTITION BY c.key1 ORDER BY c.ord) AS i,
      count(*) OVER (PARTITION BY c.key1) AS k
    FROM calls c
  ) c
  JOIN first f ON f."key" = c.key1
  WHERE c.key2 IS NOT NULL AND f."hits" - c.k + c.i <= c.limit1
),
second AS (${upsert(`SELECT c.key2, count(*)::int, clock_timestamp() + min(c.ttl2) * interval '1 millisecond'
  FROM counted c GROUP BY c.key2 ORDER BY c.key2`)}
)
SELECT * FROM first UNION ALL SELECT * FROM second`;

/** At most this many calls share one statement. */
const MAX_CALLS_PER_STATEMENT = 500;
/** Deadlock: PostgreSQL aborted the statement whole, so running it again counts nothing twice. */
const DEADLOCK = '40P01';
const MAX_ATTEMPTS = 3;

interface PendingCall {
  first: PairedHit;
  second?: PairedHit;
  resolve: (pair: HitPair) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for rate-limit hits: the calls of a turn of the event loop (and those asked while
 * a statement is in flight) go in one statement, each getting exactly the counts that one
 * statement per hit, in call order, would have given. A call that cannot share the batch (its
 * key with another window, or a key that is another call's first key here and second key there:
 * a statement updates a row once) waits for the next statement, in order.
 */
export class PostgresHitBatcher {
  private pending: PendingCall[] = [];
  private draining?: Promise<void>;
  /** Statements run and calls they carried, for tests and profiles. */
  readonly stats = { statements: 0, calls: 0 };

  constructor(private readonly pool: PgHitQueryable) {}

  /** A pair's keys must differ (a statement updates a row once). */
  hit(first: PairedHit, second?: PairedHit): Promise<HitPair> {
    return new Promise<HitPair>((resolve, reject) => {
      this.pending.push({ first, second, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    // Let this turn of the event loop finish, so that the calls read in it share a statement.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) await this.run(this.take());
    // Checked and cleared in one synchronous step, so a hit asked later starts a drain.
    this.draining = undefined;
  }

  /** The calls that can share the next statement; the rest stay pending, in order. */
  private take(): PendingCall[] {
    const firstTtl = new Map<string, number>();
    const secondTtl = new Map<string, number>();
    const batch: PendingCall[] = [];
    const rest: PendingCall[] = [];
    /** Keys of calls left waiting: later calls of these keys wait too, so each key keeps order. */
    const waiting = new Set<string>();
    for (const call of this.pending) {
      const { first, second } = call;
      const fits =
        batch.length < MAX_CALLS_PER_STATEMENT &&
        !waiting.has(first.key) &&
        (firstTtl.get(first.key) ?? first.ttl) === first.ttl &&
        !secondTtl.has(first.key) &&
        (second === undefined ||
          (!waiting.has(second.key) &&
            (secondTtl.get(second.key) ?? second.ttl) === second.ttl &&
            !firstTtl.has(second.key)));
      if (!fits) {
        rest.push(call);
        waiting.add(first.key);
        if (second) waiting.add(second.key);
        continue;
      }
      firstTtl.set(first.key, first.ttl);
      if (second) secondTtl.set(second.key, second.ttl);
      batch.push(call);
    }
    this.pending = rest;
    return batch;
  }

  private async run(batch: PendingCall[]): Promise<void> {
    this.stats.statements++;
    this.stats.calls += batch.length;
    try {
      const counts = await this.query(batch);
      for (const [call, pair] of pairs(batch, counts)) call.resolve(pair);
    } catch (error) {
      for (const call of batch) call.reject(error);
    }
  }

  private async query(batch: PendingCall[]): Promise<Map<string, CountedHit>> {
    const values = [
      batch.map((c) => c.first.key),
      batch.map((c) => c.first.ttl),
      batch.map((c) => c.first.limit),
      batch.map((c) => c.second?.key ?? null),
      batch.map((c) => c.second?.ttl ?? null),
    ];
    for (let attempt = 1; ; attempt++) {
      try {
        // Named: each connection parses and plans it once.
        const { rows } = await this.pool.query<{ key: string; hits: number; ttl_ms: number }>({
          name: 'openclaw_rate_limit_hits',
          text: HITS_SQL,
          values,
        });
        return new Map(rows.map((row) => [row.key, { hits: row.hits, ttlMs: row.ttl_ms }]));
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || (error as { code?: unknown }).code !== DEADLOCK) throw error;
      }
    }
  }
}

/**
 * Each call's counts from the keys' new totals, as the statement worked them out: a key counted k
 * times in the batch ends at `total`, so its hits, in call order, saw total - k + 1 ... total.
 */
function pairs(
  batch: PendingCall[],
  totals: Map<string, CountedHit>,
): Array<[PendingCall, HitPair]> {
  const total = (key: string): CountedHit => {
    const counted = totals.get(key);
    if (counted === undefined) throw new Error(`rate-limit statement left ${key} uncounted`);
    return counted;
  };
  const times = new Map<string, number>();
  for (const { first } of batch) times.set(first.key, (times.get(first.key) ?? 0) + 1);
  const seen = new Map<string, number>();
  const nth = (key: string): number => {
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n;
  };
  const firsts = batch.map(({ first }) => {
    const { hits, ttlMs } = total(first.key);
    return { hits: hits - times.get(first.key)! + nth(first.key), ttlMs };
  });
  // The second keys counted: those of the calls whose first hit was within its limit.
  const countedSecond = batch.map(
    ({ first, second }, i) => second !== undefined && firsts[i].hits <= first.limit,
  );
  batch.forEach(({ second }, i) => {
    if (countedSecond[i]) times.set(second!.key, (times.get(second!.key) ?? 0) + 1);
  });
  return batch.map((call, i) => {
    if (!countedSecond[i]) return [call, { first: firsts[i] }];
    const key = call.second!.key;
    const { hits, ttlMs } = total(key);
    return [call, { first: firsts[i], second: { hits: hits - times.get(key)! + nth(key), ttlMs } }];
  });
}
