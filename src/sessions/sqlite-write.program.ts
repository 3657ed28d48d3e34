/** The part of a better-sqlite3 connection the SQLite append path uses (the package ships no types). */
export interface SqliteStatement {
  get(...params: unknown[]): Record<string, unknown> | undefined;
  run(...params: unknown[]): unknown;
}
interface SqliteTransaction<T> {
  (): T;
  immediate(): T;
}
export interface SqliteConnection {
  inTransaction: boolean;
  prepare(sql: string): SqliteStatement;
  transaction<T>(fn: () => T): SqliteTransaction<T>;
}

/** A write as the program takes it: plain data, so that it can be posted to a worker thread. */
export type SqliteWriteCall =
  | {
      kind: 'create';
      sessionKey: string;
      ownerSubject: string;
      agentId: string;
      metadata: string;
      data: string;
    }
  | {
      kind: 'append';
      sessionKey: string;
      events: Array<{ type: string; json: string; idempotencyKey: string | null }>;
      expectActive: boolean;
      fenceToken: number | null;
      release: boolean;
      ends: boolean;
    };

/** A call's outcome: the first seq it stored, or why it stored nothing. */
export type SqliteCallOutcome =
  | { ok: true; firstSeq: number }
  | { ok: false; reason: 'not-found' | 'ended' | 'lease-lost' | 'key-used'; key?: string }
  | { ok: false; reason: 'error'; error?: unknown; message: string; code?: string };

export type SqliteWriteRun = (calls: SqliteWriteCall[], at: string) => SqliteCallOutcome[];

/**
 * The SQLite append path, on one connection: a batch is one `BEGIN IMMEDIATE` transaction, each
 * call in its own savepoint (a nested better-sqlite3 transaction) so that a failing call fails
 * alone, on statements prepared once. `seq` is reserved by bumping `sessions.last_seq` under
 * SQLite's single writer, so it can neither gap nor repeat; the lease lives on the same row, so
 * the fence is read from the very row version written (RETURNING gives the new row, whose owner
 * a release just cleared: the token alone fences).
 *
 * Self-contained on purpose (no imports, no outer names, plain syntax): its source also runs in
 * the writer thread (SqliteWorkerEventWriter), where it arrives as text.
 */
export function sqliteWriteProgram(db: SqliteConnection): SqliteWriteRun {
  const ROWS_PER_INSERT = 100;
  const statements = new Map<string, SqliteStatement>();
  const statement = (sql: string): SqliteStatement => {
    let prepared = statements.get(sql);
    if (!prepared) {
      prepared = db.prepare(sql);
      statements.set(sql, prepared);
    }
    return prepared;
  };
  /** A refusal is thrown to roll the call back to its savepoint, and reported as data. */
  const refuse = (reason: string, key?: string): never => {
    throw Object.assign(new Error(reason), { refusal: reason, key });
  };
  /** Rows as [seq, type, data, idempotencyKey]. */
  const insertEvents = (
    sessionKey: string,
    rows: Array<[number, string, string, string | null]>,
    at: string,
  ): void => {
    for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
      const chunk = rows.slice(start, start + ROWS_PER_INSERT);
      const params: unknown[] = [];
      for (const [seq, type, data, key] of chunk) params.push(sessionKey, seq, type, data, at, key);
      statement(
        `INSERT INTO "session_events" ("session_key", "seq", "type", "data", "at", "idempotency_key") VALUES ` +
          chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', '),
      ).run(...params);
    }
  };
  const apply = (call: SqliteWriteCall, at: string): number => {
    if (call.kind === 'create') {
      statement(
        `INSERT INTO "sessions" ("session_key", "owner_subject", "agent_id", "metadata", "status", "last_seq", "created_at", "ended_at")
         VALUES (?, ?, ?, ?, 'active', 1, ?, NULL)`,
      ).run(call.sessionKey, call.ownerSubject, call.agentId, call.metadata, at);
      insertEvents(call.sessionKey, [[1, 'session.created', call.data, null]], at);
      return 1;
    }
    const { sessionKey, events } = call;
    const row = statement(
      `UPDATE "sessions" SET "last_seq" = "last_seq" + ?${call.release ? `, "lease_owner" = NULL` : ''}
       WHERE "session_key" = ? RETURNING "last_seq", "status", "lease_token"`,
    ).get(events.length, sessionKey);
    // A refused call rolls back to its savepoint, undoing the bump above.
    if (row === undefined) return refuse('not-found');
    if (call.expectActive && row.status === 'ended') refuse('ended');
    if (call.fenceToken !== null && Number(row.lease_token) !== call.fenceToken) {
      refuse('lease-lost');
    }
    const keys: string[] = [];
    for (const event of events) if (event.idempotencyKey !== null) keys.push(event.idempotencyKey);
    if (keys.length > 0) {
      const used = statement(
        `SELECT "idempotency_key" FROM "session_events" WHERE "session_key" = ? AND "idempotency_key" IN (${keys.map(() => '?').join(', ')}) LIMIT 1`,
      ).get(sessionKey, ...keys);
      if (used !== undefined) refuse('key-used', String(used.idempotency_key));
    }
    const firstSeq = Number(row.last_seq) - events.length + 1;
    insertEvents(
      sessionKey,
      events.map((e, i): [number, string, string, string | null] => [
        firstSeq + i,
        e.type,
        e.json,
        e.idempotencyKey,
      ]),
      at,
    );
    if (call.ends && row.status !== 'ended') {
      statement(
        `UPDATE "sessions" SET "status" = 'ended', "ended_at" = ? WHERE "session_key" = ?`,
      ).run(at, sessionKey);
    }
    return firstSeq;
  };
  const outcome = (call: SqliteWriteCall, at: string): SqliteCallOutcome => {
    try {
      return { ok: true, firstSeq: db.transaction(() => apply(call, at))() };
    } catch (error) {
      const refusal = (error as { refusal?: unknown } | null)?.refusal;
      if (typeof refusal === 'string') {
        return {
          ok: false,
          reason: refusal as 'not-found',
          key: (error as { key?: string }).key,
        };
      }
      const { message, code } = error as { message?: unknown; code?: unknown };
      return {
        ok: false,
        reason: 'error',
        error,
        message: String(message),
        code: typeof code === 'string' ? code : undefined,
      };
    }
  };
  return (calls, at) => db.transaction(() => calls.map((call) => outcome(call, at))).immediate();
}
