import { randomBytes } from 'node:crypto';

import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { DataSource, MoreThan, type Repository } from 'typeorm';

import {
  IdempotencyKeyConflictError,
  LeaseLostError,
  SessionEndedError,
  SessionNotFoundError,
} from './event-store.errors.js';
import { SessionEventEntity } from './session-event.entity.js';
import { SessionEntity } from './session.entity.js';
import type { NewEvent, SessionRecord, StoredEvent } from './session.types.js';

/** At most this many calls share one transaction (group commit). */
const MAX_CALLS_PER_TRANSACTION = 256;
/** Rows per multi-row INSERT, well under both engines' bind-parameter limits. */
const ROWS_PER_INSERT = 100;
const MAX_TYPE_LENGTH = 64;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/**
 * PostgreSQL transactions in flight at once. One at a time left the server idle between a
 * batch's round trips; each session always uses the same lane, so its writes stay in order.
 */
const POSTGRES_WRITE_LANES = 4;
/** PostgreSQL deadlock / serialization failure: the whole batch is retried. */
const RETRYABLE_PG_CODES = new Set(['40P01', '40001']);
const MAX_BATCH_ATTEMPTS = 3;

/** A statement written with `?` placeholders; PostgreSQL gets them renumbered to `$n`. */
interface Statement {
  sql: string;
  params: unknown[];
}
type Row = Record<string, unknown>;

/**
 * A write, written once for both engines as a generator that yields statements and receives
 * their rows: SQLite runs it synchronously inside a better-sqlite3 transaction, PostgreSQL
 * awaits each statement on a pooled connection.
 */
type WriteOp<T> = () => Generator<Statement, T, Row[]>;

/** The turn lease an append must still hold: its owner and fencing token. */
export interface AppendFence {
  owner: string;
  token: number;
  /** The turn's last append: free the lease in the same statement. */
  release?: boolean;
}

/** One queue of writes and the loop committing it; a session's writes always use one lane. */
interface WriteLane {
  pending: WriteJob[];
  draining?: Promise<void>;
}

interface WriteJob {
  sessionKey: string;
  op: WriteOp<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** The part of a better-sqlite3 connection this store uses (the package ships no types). */
interface SqliteStatement {
  reader: boolean;
  all(...params: unknown[]): Row[];
  run(...params: unknown[]): unknown;
}
interface SqliteTransaction<T> {
  (): T;
  immediate(): T;
}
interface SqliteConnection {
  inTransaction: boolean;
  prepare(sql: string): SqliteStatement;
  transaction<T>(fn: () => T): SqliteTransaction<T>;
}

/**
 * The append-only event log of every session.
 *
 * Every write goes through a queue (one on SQLite, a few lanes on PostgreSQL, a session always
 * on the same one): calls that arrive while a transaction is in flight are committed together
 * in the next one (group commit), each inside its own savepoint so a failing call fails alone. A call resolves only after its transaction has committed.
 * `seq` is assigned by bumping `sessions.last_seq` in the same transaction
 * (`UPDATE … RETURNING`), which takes the row lock on PostgreSQL and runs under SQLite's
 * single writer, so concurrent writers can produce neither a gap nor a duplicate.
 */
@Injectable()
export class EventStore implements OnModuleDestroy {
  private readonly sessions: Repository<SessionEntity>;
  private readonly events: Repository<SessionEventEntity>;
  private readonly lanes: WriteLane[];
  private readonly sqliteStatements = new Map<string, SqliteStatement>();

  constructor(private readonly dataSource: DataSource) {
    this.sessions = dataSource.getRepository(SessionEntity);
    this.events = dataSource.getRepository(SessionEventEntity);
    // SQLite has one writer, and its commits block the thread: more lanes would only interleave.
    const laneCount = dataSource.options.type === 'better-sqlite3' ? 1 : POSTGRES_WRITE_LANES;
    this.lanes = Array.from({ length: laneCount }, () => ({ pending: [] }));
  }

  /** Lets queued writes commit before the data source is closed. */
  async onModuleDestroy(): Promise<void> {
    for (const lane of this.lanes) while (lane.draining) await lane.draining;
  }

  /** Creates a session and its first event, `session.created` (seq 1), in one transaction. */
  async createSession(input: {
    ownerSubject: string;
    agentId: string;
    metadata?: Record<string, unknown>;
  }): Promise<{ session: SessionRecord; event: StoredEvent }> {
    const sessionKey = newSessionKey();
    const metadata = input.metadata ?? {};
    return this.enqueue(sessionKey, function* () {
      const at = new Date().toISOString();
      const session: SessionRecord = {
        sessionKey,
        ownerSubject: input.ownerSubject,
        agentId: input.agentId,
        metadata,
        status: 'active',
        lastSeq: 1,
        createdAt: at,
        endedAt: null,
      };
      const event: StoredEvent = {
        sessionKey,
        seq: 1,
        type: 'session.created',
        at,
        data: { agentId: input.agentId, metadata },
        idempotencyKey: null,
      };
      yield {
        sql: `INSERT INTO "sessions" ("session_key", "owner_subject", "agent_id", "metadata", "status", "last_seq", "created_at", "ended_at")
              VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`,
        params: [
          sessionKey,
          session.ownerSubject,
          session.agentId,
          JSON.stringify(metadata),
          'active',
          1,
          at,
        ],
      };
      yield* insertEvents([event]);
      return { session, event };
    });
  }

  async getSession(sessionKey: string): Promise<SessionRecord | null> {
    const row = await this.sessions.findOneBy({ sessionKey });
    return row ? toSessionRecord(row) : null;
  }

  /**
   * Appends events with contiguous seqs after the session's last one. Appending
   * `session.ended` ends the session in the same transaction.
   *
   * @throws SessionNotFoundError when the session does not exist
   * @throws SessionEndedError when `expectActive` is set and the session has ended
   * @throws IdempotencyKeyConflictError when an event's idempotency key is already used in the session
   * @throws LeaseLostError when `fence` is set and that lease is no longer the session's
   */
  async append(
    sessionKey: string,
    events: NewEvent[],
    opts: { expectActive?: boolean; fence?: AppendFence } = {},
  ): Promise<StoredEvent[]> {
    for (const event of events) validateNewEvent(event);
    const batch = events.map((e) => ({ ...e, data: e.data ?? {} }));
    const fence = opts.fence;
    // The lease lives on the session row this UPDATE locks: the fence is read from the very row
    // version being written, and a takeover (an UPDATE of the same row) waits for this commit.
    // A turn's last append frees the lease in the same statement.
    const freeLease = fence?.release ? `, "lease_owner" = NULL` : '';
    return this.enqueue(sessionKey, function* () {
      const [row] = yield {
        sql: `UPDATE "sessions" SET "last_seq" = "last_seq" + ?${freeLease} WHERE "session_key" = ? RETURNING "last_seq", "status", "lease_token"`,
        params: [batch.length, sessionKey],
      };
      if (row === undefined) throw new SessionNotFoundError(sessionKey);
      // A rejected call rolls back to its savepoint, undoing the bump above.
      if (opts.expectActive && row.status === 'ended') throw new SessionEndedError(sessionKey);
      // RETURNING gives the new row, whose owner a release just cleared: the token alone fences
      // (it changes at every acquisition, and only the holder writes with it).
      if (fence && Number(row.lease_token) !== fence.token) throw new LeaseLostError(sessionKey);
      // The session row is locked (or SQLite's single writer held) from the UPDATE above, so
      // this check cannot race another append to the same session.
      const keys = batch.flatMap((e) => (e.idempotencyKey === undefined ? [] : [e.idempotencyKey]));
      if (keys.length > 0) {
        const duplicate = keys.find((key, i) => keys.indexOf(key) !== i);
        if (duplicate !== undefined) throw new IdempotencyKeyConflictError(sessionKey, duplicate);
        const [used] = yield {
          sql: `SELECT "idempotency_key" FROM "session_events" WHERE "session_key" = ? AND "idempotency_key" IN (${keys.map(() => '?').join(', ')}) LIMIT 1`,
          params: [sessionKey, ...keys],
        };
        if (used !== undefined)
          throw new IdempotencyKeyConflictError(sessionKey, String(used.idempotency_key));
      }
      const firstSeq = Number(row.last_seq) - batch.length + 1;
      const at = new Date().toISOString();
      const stored: StoredEvent[] = batch.map((e, i) => ({
        sessionKey,
        seq: firstSeq + i,
        type: e.type,
        at,
        data: e.data,
        idempotencyKey: e.idempotencyKey ?? null,
      }));
      yield* insertEvents(stored);
      if (row.status !== 'ended' && stored.some((e) => e.type === 'session.ended')) {
        yield {
          sql: `UPDATE "sessions" SET "status" = 'ended', "ended_at" = ? WHERE "session_key" = ?`,
          params: [at, sessionKey],
        };
      }
      return stored;
    });
  }

  /** Events with `seq > afterSeq`, oldest first, at most `limit`; walks the (session, seq) index. */
  async history(sessionKey: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    if (limit <= 0) return [];
    const rows = await this.events.find({
      where: { sessionKey, seq: MoreThan(afterSeq) },
      order: { seq: 'ASC' },
      take: limit,
    });
    return rows.map(toStoredEvent);
  }

  async findByIdempotencyKey(sessionKey: string, key: string): Promise<StoredEvent | null> {
    const row = await this.events.findOneBy({ sessionKey, idempotencyKey: key });
    return row ? toStoredEvent(row) : null;
  }

  /**
   * Sessions, newest first. `after` is the `sessionKey` of the last session of the previous
   * page; an unknown cursor throws SessionNotFoundError.
   */
  async listSessions(filter: {
    ownerSubject?: string;
    limit: number;
    after?: string;
  }): Promise<SessionRecord[]> {
    if (filter.limit <= 0) return [];
    const query = this.sessions.createQueryBuilder('s');
    if (filter.ownerSubject !== undefined) {
      query.andWhere('s.ownerSubject = :owner', { owner: filter.ownerSubject });
    }
    if (filter.after !== undefined) {
      const cursor = await this.sessions.findOneBy({ sessionKey: filter.after });
      if (!cursor) throw new SessionNotFoundError(filter.after);
      query.andWhere(
        '(s.createdAt < :createdAt OR (s.createdAt = :createdAt AND s.sessionKey < :key))',
        {
          createdAt: cursor.createdAt,
          key: cursor.sessionKey,
        },
      );
    }
    const rows = await query
      .orderBy('s.createdAt', 'DESC')
      .addOrderBy('s.sessionKey', 'DESC')
      .limit(filter.limit)
      .getMany();
    return rows.map(toSessionRecord);
  }

  // ---------------------------------------------------------------------------------------
  // The write queue

  private enqueue<T>(sessionKey: string, op: WriteOp<T>): Promise<T> {
    const lane = this.lanes[laneOf(sessionKey, this.lanes.length)];
    return new Promise<T>((resolve, reject) => {
      lane.pending.push({ sessionKey, op, resolve: resolve as (value: unknown) => void, reject });
      lane.draining ??= this.drain(lane);
    });
  }

  private async drain(lane: WriteLane): Promise<void> {
    // Let this turn of the event loop finish first, so that calls arriving in it (other sockets'
    // requests read in the same poll) share the first transaction. SQLite commits block the
    // thread, so nothing can queue up behind a commit in flight the way it does on PostgreSQL.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;) {
      if (lane.pending.length === 0) {
        // Checked and cleared in one synchronous step, so a call enqueued later starts a new drain.
        lane.draining = undefined;
        return;
      }
      const jobs = lane.pending.splice(0, MAX_CALLS_PER_TRANSACTION);
      let outcomes: Outcome[];
      try {
        outcomes = await this.commit(jobs);
      } catch (error) {
        // The transaction itself failed (commit, connection, lock): nothing of it is stored.
        outcomes = jobs.map(() => ({ ok: false, error }));
      }
      jobs.forEach((job, i) => {
        const outcome = outcomes[i];
        if (outcome.ok) job.resolve(outcome.value);
        else job.reject(outcome.error);
      });
    }
  }

  private commit(jobs: WriteJob[]): Promise<Outcome[]> {
    return this.dataSource.options.type === 'better-sqlite3'
      ? this.commitSqlite(jobs)
      : this.commitPostgres(jobs);
  }

  /**
   * Runs the whole batch synchronously in one `BEGIN IMMEDIATE` transaction: no other JS runs
   * meanwhile, so no reader on the shared connection can see uncommitted rows.
   */
  private async commitSqlite(jobs: WriteJob[]): Promise<Outcome[]> {
    const db = (this.dataSource.driver as unknown as { databaseConnection: SqliteConnection })
      .databaseConnection;
    // TypeORM shares this one connection; never nest our batch inside someone else's transaction.
    while (db.inTransaction) await new Promise((resolve) => setImmediate(resolve));
    const runOne = (job: WriteJob): unknown => {
      const gen = job.op();
      let step = gen.next();
      while (!step.done) {
        const stmt = this.sqliteStatement(db, step.value.sql);
        const rows = stmt.reader
          ? stmt.all(...step.value.params)
          : (stmt.run(...step.value.params), []);
        step = gen.next(rows);
      }
      return step.value;
    };
    return db
      .transaction(() =>
        jobs.map((job): Outcome => {
          try {
            // A nested better-sqlite3 transaction is a savepoint.
            return { ok: true, value: db.transaction(() => runOne(job))() };
          } catch (error) {
            return { ok: false, error };
          }
        }),
      )
      .immediate();
  }

  private async commitPostgres(jobs: WriteJob[]): Promise<Outcome[]> {
    // Lock session rows in one order across instances (stable, so one session's calls keep theirs).
    const order = jobs
      .map((job, i) => ({ job, i }))
      .sort((a, b) => compare(a.job.sessionKey, b.job.sessionKey));
    const sortedJobs = order.map((o) => o.job);
    for (let attempt = 1; ; attempt++) {
      try {
        // Savepoints cost two round trips per call; they are only paid for when a call fails.
        // (Isolated, a batch always has outcomes: a failing call fails in its savepoint.)
        const sorted =
          (await this.commitPostgresOnce(sortedJobs, false)) ??
          (await this.commitPostgresOnce(sortedJobs, true))!;
        const outcomes: Outcome[] = new Array<Outcome>(jobs.length);
        order.forEach((o, k) => (outcomes[o.i] = sorted[k]!));
        return outcomes;
      } catch (error) {
        if (attempt >= MAX_BATCH_ATTEMPTS || !isRetryable(error)) throw error;
      }
    }
  }

  /**
   * One transaction for the batch. Without `isolate`, the calls run back to back and the first
   * that fails rolls everything back (undefined: run again isolated, each call in a savepoint);
   * a call alone is its own outcome either way.
   */
  private async commitPostgresOnce(
    jobs: WriteJob[],
    isolate: boolean,
  ): Promise<Outcome[] | undefined> {
    const runner = this.dataSource.createQueryRunner('master');
    await runner.connect();
    const run = async (job: WriteJob): Promise<unknown> => {
      const gen = job.op();
      let step = gen.next();
      while (!step.done) {
        const result = await runner.query(
          toPostgresPlaceholders(step.value.sql),
          step.value.params,
          true,
        );
        step = gen.next((result as { records?: Row[] }).records ?? []);
      }
      return step.value;
    };
    try {
      await runner.startTransaction();
      const outcomes: Outcome[] = [];
      for (const job of jobs) {
        if (!isolate || jobs.length === 1) {
          try {
            outcomes.push({ ok: true, value: await run(job) });
          } catch (error) {
            if (isRetryable(error)) throw error;
            await runner.rollbackTransaction();
            // Alone, the call's failure is the outcome; in company, the others deserve a retry.
            return jobs.length === 1 ? [{ ok: false, error }] : undefined;
          }
          continue;
        }
        await runner.query('SAVEPOINT event_store_call');
        try {
          outcomes.push({ ok: true, value: await run(job) });
          await runner.query('RELEASE SAVEPOINT event_store_call');
        } catch (error) {
          await runner.query('ROLLBACK TO SAVEPOINT event_store_call');
          outcomes.push({ ok: false, error });
        }
      }
      await runner.commitTransaction();
      return outcomes;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }

  private sqliteStatement(db: SqliteConnection, sql: string): SqliteStatement {
    let stmt = this.sqliteStatements.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      this.sqliteStatements.set(sql, stmt);
    }
    return stmt;
  }
}

/** `ses_` and 24 base64url characters: 144 random bits, unguessable. */
export function newSessionKey(): string {
  return `ses_${randomBytes(18).toString('base64url')}`;
}

function* insertEvents(events: StoredEvent[]): Generator<Statement, void, Row[]> {
  for (let start = 0; start < events.length; start += ROWS_PER_INSERT) {
    const chunk = events.slice(start, start + ROWS_PER_INSERT);
    yield {
      sql:
        `INSERT INTO "session_events" ("session_key", "seq", "type", "data", "at", "idempotency_key") VALUES ` +
        chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', '),
      params: chunk.flatMap((e) => [
        e.sessionKey,
        e.seq,
        e.type,
        JSON.stringify(e.data),
        e.at,
        e.idempotencyKey ?? null,
      ]),
    };
  }
}

function validateNewEvent(event: NewEvent): void {
  if (
    typeof event.type !== 'string' ||
    event.type.length === 0 ||
    event.type.length > MAX_TYPE_LENGTH
  ) {
    throw new TypeError(`event type must be a string of 1 to ${MAX_TYPE_LENGTH} characters`);
  }
  const key = event.idempotencyKey;
  if (
    key !== undefined &&
    (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)
  ) {
    throw new TypeError(
      `idempotencyKey must be a string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
    );
  }
}

/** A PostgreSQL deadlock or serialization failure: the whole transaction may simply be retried. */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_PG_CODES.has(code);
}

function toPostgresPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toSessionRecord(row: SessionEntity): SessionRecord {
  return {
    sessionKey: row.sessionKey,
    ownerSubject: row.ownerSubject,
    agentId: row.agentId,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    status: row.status,
    lastSeq: row.lastSeq,
    createdAt: row.createdAt,
    endedAt: row.endedAt,
  };
}

function toStoredEvent(row: SessionEventEntity): StoredEvent {
  return {
    sessionKey: row.sessionKey,
    seq: row.seq,
    type: row.type,
    at: row.at,
    data: JSON.parse(row.data) as Record<string, unknown>,
    idempotencyKey: row.idempotencyKey,
  };
}

/** The lane of a session: a stable hash of its key (FNV-1a). */
function laneOf(sessionKey: string, lanes: number): number {
  if (lanes === 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < sessionKey.length; i++) {
    hash ^= sessionKey.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % lanes;
}
