// Several instances on one PostgreSQL (BENCH_POSTGRES_URL; BENCH_REDIS_URL adds Redis for the bus
// and the limits): session.message turns per second through two gateways against one, calls
// spread over both as a load balancer would; and how long a stored event takes to reach a
// WebSocket client of the other instance, against a client of the instance that stored it.
// Every log is read back afterwards and checked to be contiguous. Without BENCH_POSTGRES_URL
// there is nothing to measure and the run says so.
import { Agent } from 'node:http';
import WebSocket from 'ws';
import {
  drive,
  freshPostgresDatabase,
  post,
  printReport,
  report,
  startGateway,
  token,
} from './support.mjs';

const SESSIONS = 32;
const LATENCY_TURNS = 300;
const NO_LIMITS = {
  rateLimit: {
    client: { limit: 1_000_000_000, ttl: '1h' },
    session: { limit: 1_000_000_000, ttl: '1h' },
  },
};

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function createSessions(baseUrl, headers) {
  const agent = new Agent({ keepAlive: true });
  const keys = [];
  for (let i = 0; i < SESSIONS; i++) {
    const body = { jsonrpc: '2.0', id: i, method: 'session.create', params: {} };
    keys.push((await post(agent, `${baseUrl}/rpc`, body, headers)).sessionKey);
  }
  return { keys, agent };
}

async function verifyLogs(baseUrl, headers, agent, keys, turns) {
  for (const [i, sessionKey] of keys.entries()) {
    let count = 0;
    for (;;) {
      const body = {
        jsonrpc: '2.0',
        id: 1,
        method: 'session.history',
        params: { sessionKey, afterSeq: count, limit: 1000 },
      };
      const page = await post(agent, `${baseUrl}/rpc`, body, headers);
      if (page.length === 0) break;
      if (page.some((event, at) => event.seq !== count + at + 1)) throw new Error('gap in log');
      count += page.length;
    }
    if (count !== 1 + 2 * turns[i]) throw new Error(`session ${sessionKey}: ${count} events`);
  }
}

/** Turns per second with `instances` gateways, each call sent to the next one in turn. */
async function throughput(instances, databaseUrl, redisUrl) {
  const gateways = [];
  for (let i = 0; i < instances; i++) {
    gateways.push(await startGateway(NO_LIMITS, { databaseUrl, redisUrl }));
  }
  const headers = { authorization: `Bearer ${await token()}` };
  const { keys, agent } = await createSessions(gateways[0].baseUrl, headers);
  const result = await drive(
    (n) => `${gateways[n % gateways.length].baseUrl}/rpc`,
    'session.message',
    keys,
    headers,
  );
  await verifyLogs(gateways.at(-1).baseUrl, headers, agent, keys, result.turns);
  agent.destroy();
  for (const gateway of gateways) await gateway.close();
  return result;
}

/** Milliseconds from an event's append (its `at`) to its frame on a client of `watcher`. */
async function notificationLatency(writer, watcher, headers) {
  const agent = new Agent({ keepAlive: true });
  const rpc = (method, params) =>
    post(agent, `${writer.baseUrl}/rpc`, { jsonrpc: '2.0', id: 1, method, params }, headers);
  const { sessionKey } = await rpc('session.create', {});
  const socket = new WebSocket(watcher.wsUrl, ['openclaw.v1'], { headers });
  await new Promise((done, fail) => socket.once('open', done).once('error', fail));
  const latencies = [];
  socket.on('message', (data) => {
    const frame = JSON.parse(String(data));
    if (frame.method === 'session.event') latencies.push(Date.now() - Date.parse(frame.params.at));
  });
  socket.send(
    JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'session.history', params: { sessionKey } }),
  );
  await new Promise((done) => socket.once('message', done));
  latencies.length = 0;
  for (let i = 0; i < LATENCY_TURNS; i++) {
    await rpc('session.message', { sessionKey, content: `turn ${i}` });
  }
  const deadline = Date.now() + 10_000;
  while (latencies.length < 2 * LATENCY_TURNS && Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 10));
  }
  socket.close();
  agent.destroy();
  if (latencies.length !== 2 * LATENCY_TURNS) {
    throw new Error(`${latencies.length} of ${2 * LATENCY_TURNS} events reached the client`);
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

const mode = process.env.BENCH_REDIS_URL ? 'PostgreSQL + Redis' : 'PostgreSQL alone';
const base = await freshPostgresDatabase();
if (!base) {
  console.log(
    '\ncluster: set BENCH_POSTGRES_URL (and BENCH_REDIS_URL) to measure several instances',
  );
} else {
  const redisUrl = process.env.BENCH_REDIS_URL;
  const one = await throughput(1, base, redisUrl);
  const two = await throughput(2, await freshPostgresDatabase(), redisUrl);
  report(`${mode}: one instance, ${SESSIONS} sessions`, one.rate, 'turns/s');
  report(`${mode}: two instances, calls alternating`, two.rate, 'turns/s');
  report(`${mode}: two instances / one`, (two.rate / one.rate) * 100, '%');
  report(
    `${mode}: p99 latency, one / two instances`,
    `${Math.round(one.p99)} / ${Math.round(two.p99)}`,
    'ms',
  );

  const databaseUrl = await freshPostgresDatabase();
  const a = await startGateway(NO_LIMITS, { databaseUrl, redisUrl });
  const b = await startGateway(NO_LIMITS, { databaseUrl, redisUrl });
  const headers = { authorization: `Bearer ${await token()}` };
  const same = await notificationLatency(b, b, headers);
  const across = await notificationLatency(b, a, headers);
  await a.close();
  await b.close();
  report(`${mode}: append to frame, same instance p50 / p99`, `${same.p50} / ${same.p99}`, 'ms');
  report(
    `${mode}: append to frame, other instance p50 / p99`,
    `${across.p50} / ${across.p99}`,
    'ms',
  );
}
printReport(
  'several instances (logs verified afterwards)',
  process.env.BENCH_REDIS_URL ? 'cluster-redis' : 'cluster-postgres',
);
