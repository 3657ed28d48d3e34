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

/** SHA-256 of a string's UTF-8 bytes as hex (node:crypto, handed in: the program imports nothing). */
export type Sha256Hex = (text: string) => string;

/**
 * The SQLite append path, on one connection: a batch is one `BEGIN IMMEDIATE` transaction on
 * statements prepared once. A call that is refused (no session, ended, lease lost, key used) is
 * refused before it writes anything, so it fails alone with nothing to undo; a session's create
 * runs in a savepoint. `seq` is reserved by reading and moving `sessions.last_seq` under SQLite's
 * single writer (the transaction holds the write lock), so it can neither gap nor repeat; the
 * lease lives on the same row, so the fence is read from the row the append then moves on.
 *
 * Each event is hash-chained to the one before it in the same transaction: its hash is SHA-256
 * over the canonical JSON of {at, data, prev, seq, sessionKey, type} (see chain-hash.ts; the data
 * arrives already canonical), `prev` coming from `sessions.last_hash`, the chain head, which the
 * same transaction moves on.
 *
 * Self-contained on purpose (no imports, no outer names, plain syntax): its source also runs in
 * the writer thread (SqliteWorkerEventWriter), where it arrives as text.
 */
export function sqliteWriteProgram(db: SqliteConnection, sha256: Sha256Hex): SqliteWriteRun {
  const ROWS_PER_INSERT = 100;
  const GENESIS = '0000000000000000000000000000000000000000000000000000000000000000';
  const hashOf = (prev: string, key: string, seq: number, type: string, at: string, data: string) =>
    sha256(
      `{"at":${JSON.stringify(at)},"data":${data},"prev":"${prev}","seq":${seq},` +
        `"sessionKey":${JSON.stringify(key)},"type":${JSON.stringify(type)}}`,
    );
  const statements = new Map<string, SqliteStatement>();
  const statement = (sql: string): SqliteStatement => {
    let prepared = statements.get(sql);
    if (!prepared) {
      prepared = db.prepare(sql);
      statements.set(sql, prepared);
    }
    return prepared;
  };
  /** A refusal is thrown out of the call (before it wrote anything) and reported as data. */
  const refuse = (reason: string, key?: string): never => {
    throw Object.assign(new Error(reason), { refusal: reason, key });
  };
  /** Rows as [seq, type, data, idempotencyKey], chained from `prev`; returns the new head. */
  const insertEvents = (
    sessionKey: string,
    rows: Array<[number, string, string, string | null]>,
    at: string,
    prev: string,
  ): string => {
    let head = prev;
    for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
      const chunk = rows.slice(start, start + ROWS_PER_INSERT);
      const params: unknown[] = [];
      for (const [seq, type, data, key] of chunk) {
        head = hashOf(head, sessionKey, seq, type, at, data);
        params.push(sessionKey, seq, type, data, at, key, head);
      }
      statement(
        `INSERT INTO "session_events" ("session_key", "seq", "type", "data", "at", "idempotency_key", "hash") VALUES ` +
          chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', '),
      ).run(...params);
    }
    return head;
  };
  const apply = (call: SqliteWriteCall, at: string): number => {
    if (call.kind === 'create') {
      const head = hashOf(GENESIS, call.sessionKey, 1, 'session.created', at, call.data);
      statement(
        `INSERT INTO "sessions" ("session_key", "owner_subject", "agent_id", "metadata", "status", "last_seq", "last_hash", "created_at", "ended_at")
         VALUES (?, ?, ?, ?, 'active', 1, ?, ?, NULL)`,
      ).run(call.sessionKey, call.ownerSubject, call.agentId, call.metadata, head, at);
      insertEvents(call.sessionKey, [[1, 'session.created', call.data, null]], at, GENESIS);
      return 1;
    }
    const { sessionKey, events } = call;
    // Every refusal is decided before the first write, so a refused call leaves nothing to undo
    // and needs no savepoint: three statements per append (four with an idempotency key).
    const row = statement(
      `SELECT "last_seq", "last_hash", "status", "lease_token" FROM "sessions" WHERE "session_key" = ?`,
    ).get(sessionKey);
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
    const firstSeq = Number(row.last_seq) + 1;
    const head = insertEvents(
      sessionKey,
      events.map((e, i): [number, string, string, string | null] => [
        firstSeq + i,
        e.type,
        e.json,
        e.idempotencyKey,
      ]),
      at,
      typeof row.last_hash === 'string' ? row.last_hash : GENESIS,
    );
    // The seq, the chain head, a release of the lease and the end, in one update of the row.
    const ends = call.ends && row.status !== 'ended';
    statement(
      `UPDATE "sessions" SET "last_seq" = ?, "last_hash" = ?` +
        (call.release ? `, "lease_owner" = NULL` : '') +
        (ends ? `, "status" = 'ended', "ended_at" = ?` : '') +
        ` WHERE "session_key" = ?`,
    ).run(firstSeq + events.length - 1, head, ...(ends ? [at] : []), sessionKey);
    return firstSeq;
  };
  const outcome = (call: SqliteWriteCall, at: string): SqliteCallOutcome => {
    try {
      // A create writes twice before it can fail, so it keeps a savepoint; an append refuses
      // before writing (see apply), and any other error mid-append fails the whole batch.
      const firstSeq =
        call.kind === 'create' ? db.transaction(() => apply(call, at))() : apply(call, at);
      return { ok: true, firstSeq };
    } catch (error) {
      const refusal = (error as { refusal?: unknown } | null)?.refusal;
      if (typeof refusal === 'string') {
        return {
          ok: false,
          reason: refusal as 'not-found',
          key: (error as { key?: string }).key,
        };
      }
      if (call.kind === 'append') throw error;
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
