// The floor the gateway is measured against: the same framework (Fastify) and WebSocket library
// (ws) answering JSON-RPC with a constant result, with no auth, limits, validation, logging or
// storage. What the gateway costs is the distance from here.
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import pg from 'pg';
import { WebSocketServer } from 'ws';
import { AGENTS as result } from './floor-result.mjs';

const [port, database] = [Number(process.argv[2]), process.argv[3]];
const app = Fastify();
app.get('/health', async () => ({ status: 'ok' }));
app.post('/rpc', async (request) => ({ jsonrpc: '2.0', id: request.body.id, result }));

// The storage floor: one durable transaction per call appending two rows (a turn's user message
// and reply), with no grouping and no agent. SQLite in WAL mode with synchronous=FULL like the
// gateway; or PostgreSQL (synchronous_commit on), bumping a per-session counter as the gateway does.
if (database?.startsWith('postgres')) {
  const pool = new pg.Pool({ connectionString: database, max: 16 });
  await pool.query(`CREATE TABLE sessions (key TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
    CREATE TABLE events (session TEXT, seq INTEGER, type TEXT, payload TEXT, PRIMARY KEY (session, seq))`);
  app.post('/append', async (request) => {
    const { sessionKey, content } = request.body.params;
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(
        `INSERT INTO sessions VALUES ($1, 2) ON CONFLICT (key)
         DO UPDATE SET last_seq = sessions.last_seq + 2 RETURNING last_seq`,
        [sessionKey],
      );
      const seq = rows[0].last_seq;
      const payload = JSON.stringify({ content });
      await client.query('INSERT INTO events VALUES ($1, $2, $3, $4), ($1, $5, $6, $4)', [
        sessionKey,
        seq - 1,
        'message.user',
        payload,
        seq,
        'message.agent',
      ]);
      await client.query('COMMIT');
      return { jsonrpc: '2.0', id: request.body.id, result: { seq } };
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  });
} else if (database) {
  const db = new Database(database);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'CREATE TABLE events (session TEXT, seq INTEGER, type TEXT, payload TEXT, PRIMARY KEY (session, seq))',
  );
  const next = db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM events WHERE session = ?');
  const insert = db.prepare('INSERT INTO events VALUES (?, ?, ?, ?)');
  const append = db.transaction((session, content) => {
    const { seq } = next.get(session);
    insert.run(session, seq, 'message.user', JSON.stringify({ content }));
    insert.run(session, seq + 1, 'message.agent', JSON.stringify({ content }));
    return seq + 1;
  });
  app.post('/append', async (request) => {
    const { sessionKey, content } = request.body.params;
    return { jsonrpc: '2.0', id: request.body.id, result: { seq: append(sessionKey, content) } };
  });
}

const wss = new WebSocketServer({ server: app.server, path: '/ws' });
wss.on('connection', (socket) => {
  socket.on('message', (data) => {
    const call = JSON.parse(data.toString());
    socket.send(JSON.stringify({ jsonrpc: '2.0', id: call.id, result }));
  });
});

await app.listen({ host: '127.0.0.1', port });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
