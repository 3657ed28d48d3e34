import { randomBytes } from 'node:crypto';

import { Injectable, Optional, type OnModuleDestroy } from '@nestjs/common';
import { DataSource, MoreThan, type Repository } from 'typeorm';

import { TracingService } from '../core/tracing/tracing.service.js';
import { canonicalJson } from '../core/audit/canonical-json.js';
import { IdempotencyKeyConflictError, SessionNotFoundError } from './event-store.errors.js';
import { EventWriteBatcher, type WriteBatchStats } from './event-write.batcher.js';
import type {
  AppendFence,
  CreatedSession,
  EventLogWriter,
  PendingEvent,
} from './event-write.types.js';
import { PostgresEventWriter, type PgQueryable } from './postgres-event.writer.js';
import { SessionEventEntity } from './session-event.entity.js';
import { SessionHeads } from './session-heads.js';
import { SessionEntity } from './session.entity.js';
import type { NewEvent, SessionRecord, StoredEvent } from './session.types.js';
import {
  SqliteEventWriter,
  type SqliteConnection,
  type SqliteStatement,
} from './sqlite-event.writer.js';
import { SqliteWorkerEventWriter } from './sqlite-worker-event.writer.js';

export type { AppendFence } from './event-write.types.js';

const MAX_TYPE_LENGTH = 64;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * The append-only event log of every session.
 *
 * Writes are group-committed (EventWriteBatcher): calls that arrive together share a commit,
 * each succeeding or failing alone, and a call resolves only after its commit. The engine's
 * writer does the SQL: on SQLite a transaction of prepared statements, on PostgreSQL one
 * statement per batch. `seq` is assigned by bumping `sessions.last_seq` in the statement that
 * stores the events (row lock on PostgreSQL, the single writer on SQLite), so concurrent
 * writers can produce neither a gap nor a duplicate. Reads go through TypeORM.
 */
@Injectable()
export class EventStore implements OnModuleDestroy {
  private readonly sessions: Repository<SessionEntity>;
  private readonly events: Repository<SessionEventEntity>;
  private batcher?: EventWriteBatcher;
  private writer?: EventLogWriter;
  private lastSeqStatement?: SqliteStatement;
  /** On SQLite this process is the only writer (one instance), so it knows each session's head. */
  private readonly heads?: SessionHeads;

  constructor(
    private readonly dataSource: DataSource,
    @Optional() private readonly tracing?: TracingService,
  ) {
    this.sessions = dataSource.getRepository(SessionEntity);
    this.events = dataSource.getRepository(SessionEventEntity);
    if (dataSource.options.type === 'better-sqlite3') this.heads = new SessionHeads();
  }

  /** Lets queued writes commit before the data source is closed. */
  async onModuleDestroy(): Promise<void> {
    await this.batcher?.flushed();
    await this.writer?.close();
  }

  /** Calls per commit so far: how much group commit groups. */
  get writeStats(): WriteBatchStats {
    return { ...(this.batcher?.stats ?? { batches: 0, calls: 0, largest: 0 }) };
  }

  /** Creates a session and its first event, `session.created` (seq 1), in one transaction. */
  async createSession(input: {
    ownerSubject: string;
    agentId: string;
    metadata?: Record<string, unknown>;
  }): Promise<{ session: SessionRecord; event: StoredEvent }> {
    const sessionKey = newSessionKey();
    const created = this.write().submit<CreatedSession>({
      kind: 'create',
      sessionKey,
      ownerSubject: input.ownerSubject,
      agentId: input.agentId,
      metadata: input.metadata ?? {},
    });
    return this.heads ? this.heads.follow(sessionKey, created) : created;
  }

  /**
   * The session's newest seq (undefined when there is no such session). On SQLite the head this
   * process last wrote when it knows it, else a prepared statement on the driver's connection; on
   * PostgreSQL one indexed read.
   */
  async lastSeq(sessionKey: string): Promise<number | undefined> {
    const known = this.heads?.get(sessionKey);
    if (known !== undefined) return known;
    const sql = `SELECT "last_seq" FROM "sessions" WHERE "session_key" = `;
    if (this.dataSource.options.type === 'better-sqlite3') {
      this.lastSeqStatement ??= this.sqlite().prepare(`${sql}?`);
      const row = this.lastSeqStatement.get(sessionKey);
      return row === undefined ? undefined : Number(row.last_seq);
    }
    const rows: Array<{ last_seq: number }> = await this.dataSource.query(`${sql}$1`, [sessionKey]);
    return rows.length === 0 ? undefined : Number(rows[0].last_seq);
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
    const pending = events.map(toPendingEvent);
    const keys = pending.flatMap((e) => (e.idempotencyKey === null ? [] : [e.idempotencyKey]));
    const duplicate = keys.find((key, i) => keys.indexOf(key) !== i);
    if (duplicate !== undefined) throw new IdempotencyKeyConflictError(sessionKey, duplicate);
    const stored = this.write().submit<StoredEvent[]>({
      kind: 'append',
      sessionKey,
      events: pending,
      expectActive: opts.expectActive === true,
      fence: opts.fence,
      ends: pending.some((e) => e.type === 'session.ended'),
    });
    return this.heads ? this.heads.follow(sessionKey, stored) : stored;
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

  /** The engine's writer, made on first use: the driver's connection exists once initialized. */
  private write(): EventWriteBatcher {
    if (!this.batcher) {
      this.writer = this.createWriter();
      this.batcher = new EventWriteBatcher(this.writer, this.tracing?.tracer);
    }
    return this.batcher;
  }

  /**
   * PostgreSQL: one statement per batch on the driver's pool. A SQLite file: a writer thread of
   * its own connection, so commits do not block the event loop; in memory (one connection, no
   * sharing): this thread, on TypeORM's connection.
   */
  private createWriter(): EventLogWriter {
    if (this.dataSource.options.type !== 'better-sqlite3') {
      return new PostgresEventWriter(
        (this.dataSource.driver as unknown as { master: PgQueryable }).master,
      );
    }
    const db = this.sqlite();
    if (db.memory) return new SqliteEventWriter(db);
    return new SqliteWorkerEventWriter({
      file: db.name,
      synchronous: Number(db.pragma('synchronous', { simple: true })),
      busyTimeoutMs: Number(db.pragma('busy_timeout', { simple: true })),
      foreignKeys: Number(db.pragma('foreign_keys', { simple: true })) === 1,
    });
  }

  private sqlite(): SqliteDatabase {
    return (this.dataSource.driver as unknown as { databaseConnection: SqliteDatabase })
      .databaseConnection;
  }
}

/** TypeORM's better-sqlite3 connection, as far as this store uses it. */
interface SqliteDatabase extends SqliteConnection {
  name: string;
  memory: boolean;
  pragma(source: string, options?: { simple: boolean }): unknown;
}

/** `ses_` and 24 base64url characters: 144 random bits, unguessable. */
export function newSessionKey(): string {
  return `ses_${randomBytes(18).toString('base64url')}`;
}

/** Validated, its data serialized once (sized by the caller, stored as this text). */
function toPendingEvent(event: NewEvent): PendingEvent {
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
  const data = event.data ?? {};
  // Stored as canonical JSON: the stored text is the text the event's hash covers.
  const json = event.json ?? canonicalJson(data);
  return { type: event.type, data, json, idempotencyKey: key ?? null };
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
