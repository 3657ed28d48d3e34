// session.message throughput on the embedded default (file SQLite, WAL, synchronous=FULL): every
// acknowledged turn is two durable events and an agent run. The floor is bare Fastify committing
// the same two rows in one transaction per call. Afterwards the log is read back to check that
// every acknowledged turn is stored once, in contiguous seq order. With BENCH_POSTGRES_URL set,
// the same runs on PostgreSQL follow.
import { Agent } from 'node:http';
import {
  atLeast,
  drive,
  freshPostgresDatabase,
  lateOverEarly,
  post,
  printReport,
  report,
  startFloor,
  startGateway,
  token,
} from './support.mjs';

const SESSIONS = 32;

/**
 * Runs the floor and the gateway on one engine and reports both: SQLite files (`true` and
 * undefined), or two fresh PostgreSQL databases.
 */
async function measure(engine, floorDatabase, gatewayDatabase, targetPercent) {
  const floor = await startFloor({ database: floorDatabase });
  const floorKeys = Array.from({ length: SESSIONS }, (_, i) => `floor-${i}`);
  const floorResult = await drive(`${floor.baseUrl}/append`, 'append', floorKeys);
  await floor.close();

  const gateway = await startGateway(
    {
      rateLimit: {
        client: { limit: 1_000_000_000, ttl: '1h' },
        session: { limit: 1_000_000_000, ttl: '1h' },
      },
    },
    { databaseUrl: gatewayDatabase },
  );
  const headers = { authorization: `Bearer ${await token()}` };
  const agent = new Agent({ keepAlive: true });
  const rpc = (method, params) =>
    post(agent, `${gateway.baseUrl}/rpc`, { jsonrpc: '2.0', id: 1, method, params }, headers);
  const sessionKeys = [];
  for (let i = 0; i < SESSIONS; i++) sessionKeys.push((await rpc('session.create', {})).sessionKey);
  const gatewayResult = await drive(
    `${gateway.baseUrl}/rpc`,
    'session.message',
    sessionKeys,
    headers,
  );

  // Read every log back: session.created plus two events per acknowledged turn, seq 1..n.
  for (const [i, sessionKey] of sessionKeys.entries()) {
    const events = [];
    for (;;) {
      const page = await rpc('session.history', {
        sessionKey,
        afterSeq: events.length,
        limit: 1000,
      });
      if (page.length === 0) break;
      events.push(...page);
    }
    const expected = 1 + 2 * gatewayResult.turns[i];
    if (events.length !== expected || events.some((event, at) => event.seq !== at + 1)) {
      throw new Error(`session ${sessionKey}: ${events.length} events, expected ${expected}`);
    }
  }
  agent.destroy();
  await gateway.close();

  report(
    `${engine} floor: Fastify + one commit per turn, ${SESSIONS} sessions`,
    floorResult.rate,
    'turns/s',
  );
  report(`${engine} floor p99 latency`, floorResult.p99, 'ms');
  report(`${engine} gateway: session.message, echo agent`, gatewayResult.rate, 'turns/s');
  report(`${engine} gateway: durable events appended`, gatewayResult.rate * 2, 'events/s');
  report(`${engine} gateway p99 latency`, gatewayResult.p99, 'ms');
  report(
    `${engine} gateway / floor`,
    (gatewayResult.rate / floorResult.rate) * 100,
    '%',
    atLeast(targetPercent, `>= ${targetPercent}%`),
  );
  // Sessions grow all through the run; a turn must not cost more as its session gets longer.
  report(
    `${engine} gateway turns, last 3 s / seconds 2-4 (flat as sessions grow)`,
    lateOverEarly(gatewayResult.perSecond),
    '%',
    atLeast(80, '>= 80%'),
  );
}

await measure('SQLite', true, undefined, 25);
// PostgreSQL too when a server is given (BENCH_POSTGRES_URL=postgres://user@host/postgres).
const floorPostgres = await freshPostgresDatabase();
// Lower: each turn is ~10 round trips to a server sharing the machine's cores (the floor's is 4).
if (floorPostgres) await measure('PostgreSQL', floorPostgres, await freshPostgresDatabase(), 15);
printReport('session.message (every turn durable, log verified afterwards)');
