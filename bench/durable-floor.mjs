// The storage floor of session.message: bare Fastify committing, in one transaction per call, what
// a durable echo turn stores: the session row's seq bumped by two and two event rows (the user's
// message and the reply), in the gateway's own schema (same columns, primary keys, foreign key
// and unique indexes). SQLite in WAL mode with synchronous=FULL like the gateway, or PostgreSQL
// with synchronous_commit on. No grouping, no agent, no auth.
import { randomUUID } from 'node:crypto';

const SESSIONS_DDL = (postgres) => [
  `CREATE TABLE "sessions" (
    "session_key" varchar(64) NOT NULL,
    "owner_subject" varchar(255) NOT NULL,
    "agent_id" varchar(255) NOT NULL,
    "metadata" text NOT NULL,
    "status" varchar(16) NOT NULL,
    "last_seq" integer NOT NULL,
    "created_at" varchar(32) NOT NULL,
    "ended_at" varchar(32),
    "lease_owner" varchar(200),
    "lease_token" bigint NOT NULL DEFAULT 0,
    "lease_expires_at" bigint,
    CONSTRAINT "PK_sessions" PRIMARY KEY ("session_key"))`,
  `CREATE INDEX "IDX_sessions_owner_created" ON "sessions" ("owner_subject", "created_at", "session_key")`,
  `CREATE INDEX "IDX_sessions_created" ON "sessions" ("created_at", "session_key")`,
  `CREATE TABLE "session_events" (
    ${postgres ? `"id" SERIAL NOT NULL` : `"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL`},
    "session_key" varchar(64) NOT NULL,
    "seq" integer NOT NULL,
    "type" varchar(64) NOT NULL,
    "data" text NOT NULL,
    "at" varchar(32) NOT NULL,
    "idempotency_key" varchar(255),
    ${postgres ? `CONSTRAINT "PK_session_events" PRIMARY KEY ("id"),` : ''}
    CONSTRAINT "FK_session_events_session" FOREIGN KEY ("session_key") REFERENCES "sessions" ("session_key"))`,
  `CREATE UNIQUE INDEX "UQ_session_events_session_seq" ON "session_events" ("session_key", "seq")`,
  `CREATE UNIQUE INDEX "UQ_session_events_session_idempotency" ON "session_events" ("session_key", "idempotency_key") WHERE "idempotency_key" IS NOT NULL`,
];

/** Creates the session on its first call, as session.create would; bumps its seq by two after. */
const BUMP = (
  p,
) => `INSERT INTO "sessions" ("session_key", "owner_subject", "agent_id", "metadata", "status", "last_seq", "created_at")
  VALUES (${p(1)}, 'bench', 'echo', '{}', 'active', 3, ${p(2)})
  ON CONFLICT ("session_key") DO UPDATE SET "last_seq" = "sessions"."last_seq" + 2
  RETURNING "last_seq"`;

const INSERT = (
  p,
) => `INSERT INTO "session_events" ("session_key", "seq", "type", "data", "at", "idempotency_key")
  VALUES (${p(1)}, ${p(2)}, 'message.user', ${p(3)}, ${p(5)}, NULL), (${p(1)}, ${p(4)}, 'message.agent', ${p(6)}, ${p(5)}, NULL)`;

/** The two events' data, shaped like the gateway's. */
function eventData(content) {
  const messageId = `msg_${randomUUID()}`;
  return [
    JSON.stringify({ messageId, content }),
    JSON.stringify({ messageId, content, toolCalls: [], finishReason: 'stop' }),
  ];
}

/** Adds `POST /append` to the floor app: a SQLite file path or a postgres:// URL. */
export async function registerDurableFloor(app, database) {
  const at = () => new Date().toISOString();
  if (database.startsWith('postgres')) {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: database, max: 16 });
    for (const ddl of SESSIONS_DDL(true)) await pool.query(ddl);
    const bump = BUMP((n) => `$${n}`);
    const insert = INSERT((n) => `$${n}`);
    app.post('/append', async (request) => {
      const { sessionKey, content } = request.body.params;
      const [user, agent] = eventData(content);
      const now = at();
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const { rows } = await client.query(bump, [sessionKey, now]);
        const seq = rows[0].last_seq;
        await client.query(insert, [sessionKey, seq - 1, user, seq, now, agent]);
        await client.query('COMMIT');
        return { jsonrpc: '2.0', id: request.body.id, result: { seq } };
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    });
    return;
  }
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(database);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  for (const ddl of SESSIONS_DDL(false)) db.exec(ddl);
  const bump = db.prepare(BUMP((n) => `@p${n}`));
  const insert = db.prepare(INSERT((n) => `@p${n}`));
  const append = db.transaction((sessionKey, content) => {
    const [user, agent] = eventData(content);
    const now = at();
    const { last_seq: seq } = bump.get({ p1: sessionKey, p2: now });
    insert.run({ p1: sessionKey, p2: seq - 1, p3: user, p4: seq, p5: now, p6: agent });
    return seq;
  });
  app.post('/append', async (request) => {
    const { sessionKey, content } = request.body.params;
    return { jsonrpc: '2.0', id: request.body.id, result: { seq: append(sessionKey, content) } };
  });
}
