import type { SessionLease } from './session-lease.store.js';

/** The part of pg's Pool the lease statements use. */
export interface PgLeaseQueryable {
  query(
    config: string | { name: string; text: string; values: unknown[] },
    values?: unknown[],
  ): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/** Now in epoch milliseconds, on the database's clock so instances agree. */
export const PG_NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

/**
 * Takes the leases of a batch of distinct sessions in one statement: each row that is free or
 * expired gets its new owner, expiry and a fencing token one larger, and comes back with its
 * `last_seq`; a row held by someone else does not come back. The rows are locked first, in key
 * order (like the append statement's), so statements of several instances cannot deadlock; under
 * READ COMMITTED a row changed meanwhile is read again once locked, and the UPDATE checks the
 * lease once more on that newest version.
 */
const ACQUIRE_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::bigint[]) AS i(session_key, owner, ttl)
),
locked AS (
  SELECT s."session_key"
  FROM "sessions" s
  JOIN input i ON s."session_key" = i.session_key
  WHERE s."lease_owner" IS NULL OR s."lease_expires_at" <= ${PG_NOW_MS}
  ORDER BY s."session_key"
  FOR UPDATE OF s
)
UPDATE "sessions" s SET "lease_owner" = i.owner, "lease_token" = s."lease_token" + 1,
  "lease_expires_at" = ${PG_NOW_MS} + i.ttl
FROM locked l JOIN input i ON i.session_key = l."session_key"
WHERE s."session_key" = l."session_key"
  AND (s."lease_owner" IS NULL OR s."lease_expires_at" <= ${PG_NOW_MS})
RETURNING s."session_key", s."lease_token", s."last_seq"`;

/** At most this many sessions share one statement. */
const MAX_PER_STATEMENT = 256;

interface Acquire {
  sessionKey: string;
  owner: string;
  ttlMs: number;
  resolve: (lease: SessionLease | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for lease acquisitions on PostgreSQL: the acquires asked during a turn of the event
 * loop (and while a statement is in flight) go in one statement. A session asked twice in one
 * batch (rare: one instance runs a session's turns one at a time) waits for the next statement,
 * so a statement updates each row at most once and the answers stay those of one statement per
 * acquire, one after the other.
 */
export class PostgresLeaseAcquirer {
  private pending: Acquire[] = [];
  private draining?: Promise<void>;
  /** Statements run and acquires they carried, for tests and profiles. */
  readonly stats = { statements: 0, acquires: 0 };

  constructor(private readonly pool: () => PgLeaseQueryable) {}

  acquire(sessionKey: string, owner: string, ttlMs: number): Promise<SessionLease | undefined> {
    return new Promise((resolve, reject) => {
      this.pending.push({ sessionKey, owner, ttlMs, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    // Let this turn of the event loop finish, so that the calls read in it share a statement.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) await this.run(this.take());
    // Checked and cleared in one synchronous step, so an acquire asked later starts a drain.
    this.draining = undefined;
  }

  /** The oldest acquire of each session, up to the statement's size; the rest stay in order. */
  private take(): Acquire[] {
    const batch: Acquire[] = [];
    const rest: Acquire[] = [];
    const keys = new Set<string>();
    for (const acquire of this.pending) {
      if (batch.length === MAX_PER_STATEMENT || keys.has(acquire.sessionKey)) rest.push(acquire);
      else {
        keys.add(acquire.sessionKey);
        batch.push(acquire);
      }
    }
    this.pending = rest;
    return batch;
  }

  private async run(batch: Acquire[]): Promise<void> {
    this.stats.statements++;
    this.stats.acquires += batch.length;
    try {
      // Named: each connection parses and plans it once.
      const { rows } = await this.pool().query({
        name: 'openclaw_lease_acquire',
        text: ACQUIRE_SQL,
        values: [
          batch.map((a) => a.sessionKey),
          batch.map((a) => a.owner),
          batch.map((a) => a.ttlMs),
        ],
      });
      const granted = new Map(rows.map((row) => [String(row.session_key), row]));
      for (const { sessionKey, owner, resolve } of batch) {
        const row = granted.get(sessionKey);
        resolve(
          row && {
            sessionKey,
            owner,
            token: Number(row.lease_token),
            lastSeq: Number(row.last_seq),
          },
        );
      }
    } catch (error) {
      for (const acquire of batch) acquire.reject(error);
    }
  }
}
