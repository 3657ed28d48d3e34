import { canonicalJson } from '../core/audit/canonical-json.js';
import { sha256Hex } from '../core/audit/chain-hash.js';
import {
  IdempotencyKeyConflictError,
  LeaseLostError,
  SessionEndedError,
  SessionNotFoundError,
} from './event-store.errors.js';
import {
  createdSession,
  storedEvents,
  type EventLogWriter,
  type Outcome,
  type WriteRequest,
} from './event-write.types.js';
import {
  sqliteWriteProgram,
  type SqliteCallOutcome,
  type SqliteConnection,
  type SqliteWriteCall,
  type SqliteWriteRun,
} from './sqlite-write.program.js';

export type { SqliteConnection, SqliteStatement } from './sqlite-write.program.js';

/**
 * SQLite writes on the connection TypeORM shares, in this thread: a batch's transaction runs
 * synchronously, so no reader on the connection sees uncommitted rows, but its commit (an fsync)
 * blocks the event loop. Used for in-memory databases; a file gets SqliteWorkerEventWriter.
 */
export class SqliteEventWriter implements EventLogWriter {
  /** One writer, and its commits block the thread: more lanes would only interleave. */
  readonly lanes = 1;
  private readonly run: SqliteWriteRun;

  constructor(private readonly db: SqliteConnection) {
    this.run = sqliteWriteProgram(db, sha256Hex);
  }

  async commit(requests: readonly WriteRequest[]): Promise<Outcome[]> {
    // TypeORM shares this connection; never nest a batch inside someone else's transaction.
    while (this.db.inTransaction) await new Promise((resolve) => setImmediate(resolve));
    const at = new Date().toISOString();
    const outcomes = this.run(requests.map(toSqliteCall), at);
    return requests.map((request, i) => toOutcome(request, outcomes[i], at));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A request as plain data for the program (the events' parsed data stays in this thread). */
export function toSqliteCall(request: WriteRequest): SqliteWriteCall {
  if (request.kind === 'create') {
    const metadata = JSON.stringify(request.metadata);
    return {
      kind: 'create',
      sessionKey: request.sessionKey,
      ownerSubject: request.ownerSubject,
      agentId: request.agentId,
      metadata,
      // Canonical: the text stored is the text hashed.
      data: canonicalJson({ agentId: request.agentId, metadata: request.metadata }),
    };
  }
  return {
    kind: 'append',
    sessionKey: request.sessionKey,
    events: request.events.map(({ type, json, idempotencyKey }) => ({
      type,
      json,
      idempotencyKey,
    })),
    expectActive: request.expectActive,
    fenceToken: request.fence?.token ?? null,
    release: request.fence?.release === true,
    ends: request.ends,
  };
}

/** The program's outcome as the store reports it: what was stored, or the domain error. */
export function toOutcome(request: WriteRequest, outcome: SqliteCallOutcome, at: string): Outcome {
  const { sessionKey } = request;
  if (outcome.ok) {
    return request.kind === 'create'
      ? { ok: true, value: createdSession(request, at) }
      : { ok: true, value: storedEvents(sessionKey, request.events, outcome.firstSeq, at) };
  }
  switch (outcome.reason) {
    case 'not-found':
      return { ok: false, error: new SessionNotFoundError(sessionKey) };
    case 'ended':
      return { ok: false, error: new SessionEndedError(sessionKey) };
    case 'lease-lost':
      return { ok: false, error: new LeaseLostError(sessionKey) };
    case 'key-used':
      return { ok: false, error: new IdempotencyKeyConflictError(sessionKey, outcome.key ?? '') };
    case 'error':
      return { ok: false, error: outcome.error ?? sqliteError(outcome.message, outcome.code) };
  }
}

/** An error the writer thread reported, rebuilt with its SQLite code. */
export function sqliteError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}
