// Statements per echo turn on PostgreSQL: the gateway on a fresh database, SESSIONS sessions (32)
// driven for BENCH_SECONDS, then pg_stat_statements read for that database: calls per turn of each
// statement and in all, and each one's execution time per turn (the server's time inside the
// statement, not its CPU). The counts move little with the machine's load; the times do. Needs
// BENCH_POSTGRES_URL (a superuser) on a server with shared_preload_libraries='pg_stat_statements'
// and `CREATE EXTENSION pg_stat_statements` in the database of that URL. Not part of `npm run bench`.
import pg from 'pg';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { drive, freshPostgresDatabase, post, startGateway, token } from './support.mjs';
/** CPU time (ms, user + system) of processes so far, from /proc (Linux; 100 ticks a second). */
function cpuMs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended meanwhile.
    }
  }
  return ticks * 10;
}
/** The PostgreSQL server's processes (backends come and go: compare totals over the run). */
const postgresPids = () =>
  readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
    } catch {
      return false;
    }
  });
const sessions = Number(process.env.SESSIONS ?? 32);
const url = await freshPostgresDatabase();
const dbName = new URL(url).pathname.slice(1);
const gateway = await startGateway(
  { rateLimit: { client: { limit: 1e9, ttl: '1h' }, session: { limit: 1e9, ttl: '1h' } } },
  { databaseUrl: url },
);
const headers = { authorization: `Bearer ${await token()}` };
const agent = new Agent({ keepAlive: true });
const keys = [];
for (let i = 0; i < sessions; i++)
  keys.push(
    (
      await post(
        agent,
        `${gateway.baseUrl}/rpc`,
        { jsonrpc: '2.0', id: 1, method: 'session.create', params: {} },
        headers,
      )
    ).sessionKey,
  );
const admin = new pg.Client({ connectionString: process.env.BENCH_POSTGRES_URL });
await admin.connect();
await admin.query('SELECT pg_stat_statements_reset()');
const pgBefore = postgresPids();
const gatewayCpu = cpuMs([gateway.pid]);
const postgresCpu = cpuMs(pgBefore);
const run = await drive(`${gateway.baseUrl}/rpc`, 'session.message', keys, headers);
const gatewayCpuUsed = cpuMs([gateway.pid]) - gatewayCpu;
// Backends that ended during the run are missed; the pools keep theirs open, so few do.
const postgresCpuUsed = cpuMs(postgresPids()) - postgresCpu;
const { rows } = await admin.query(
  `SELECT calls::int, round(total_exec_time::numeric,1) AS ms, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS q FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1 ORDER BY calls DESC`,
  [dbName],
);
const turns = run.turns.reduce((a, b) => a + b, 0);
let total = 0;
for (const r of rows) {
  total += r.calls;
  if (r.calls > turns / 100)
    console.log(
      (r.calls / turns).toFixed(3),
      r.calls,
      ((r.ms * 1000) / turns).toFixed(0) + 'us/turn',
      r.q,
    );
}
console.log(
  `turns ${turns} rate ${run.rate.toFixed(0)}/s statements/turn ${(total / turns).toFixed(3)}` +
    ` CPU ms/turn: gateway ${(gatewayCpuUsed / turns).toFixed(3)}` +
    ` postgres ${(postgresCpuUsed / turns).toFixed(3)}`,
);
await admin.end();
agent.destroy();
await gateway.close();
