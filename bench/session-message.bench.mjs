// session.message throughput, every turn durable: the echo agent through the whole gateway (JWT,
// limits, validation, two events stored per turn) against the storage floor (durable-floor.mjs:
// bare Fastify committing the same rows in the same schema, one transaction per call). On SQLite
// (a file, WAL, synchronous=FULL), and on PostgreSQL when BENCH_POSTGRES_URL is set. Each engine
// runs with 32 sessions (the target) and 256 (flat as sessions grow); afterwards every log is
// read back to check that each acknowledged turn is stored once, in contiguous seq order.
// Figures go to bench/results/session-message.json; a missed target fails the run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  ROOT,
  SECONDS,
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

/** The gateway's turns per second must be at least this multiple of the floor's. */
const TARGET_RATIO = 1.5;
/** Throughput at the larger session count (and late in a run) against the smaller (and early). */
const FLAT_RATIO = 0.8;
const SESSION_COUNTS = [32, 256];

const results = [];

function result(name, unit, floor, gateway, target) {
  const ratio = gateway / floor;
  results.push({
    name,
    unit,
    floor: round(floor),
    gateway: round(gateway),
    ratio: round(ratio, 3),
    target: target ?? null,
    pass: target === undefined ? null : ratio >= target,
  });
}

const round = (value, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

async function runFloor(database, sessions) {
  const floor = await startFloor({ database });
  try {
    const keys = Array.from({ length: sessions }, (_, i) => `floor-${i}`);
    return await drive(`${floor.baseUrl}/append`, 'append', keys);
  } finally {
    await floor.close();
  }
}

async function runGateway(databaseUrl, sessions) {
  const gateway = await startGateway(
    {
      rateLimit: {
        client: { limit: 1_000_000_000, ttl: '1h' },
        session: { limit: 1_000_000_000, ttl: '1h' },
      },
    },
    { databaseUrl },
  );
  const headers = { authorization: `Bearer ${await token()}` };
  const agent = new Agent({ keepAlive: true });
  const rpc = (method, params) =>
    post(agent, `${gateway.baseUrl}/rpc`, { jsonrpc: '2.0', id: 1, method, params }, headers);
  try {
    const sessionKeys = [];
    for (let i = 0; i < sessions; i++) {
      sessionKeys.push((await rpc('session.create', {})).sessionKey);
    }
    const run = await drive(`${gateway.baseUrl}/rpc`, 'session.message', sessionKeys, headers);
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
      const expected = 1 + 2 * run.turns[i];
      if (events.length !== expected || events.some((event, at) => event.seq !== at + 1)) {
        throw new Error(`session ${sessionKey}: ${events.length} events, expected ${expected}`);
      }
    }
    return run;
  } finally {
    agent.destroy();
    await gateway.close();
  }
}

/** `database()` gives a fresh database per server: `true` for a SQLite file, or a postgres URL. */
async function measure(engine, floorDatabase, gatewayDatabase) {
  const gatewayRates = [];
  for (const sessions of SESSION_COUNTS) {
    const floor = await runFloor(await floorDatabase(), sessions);
    const gateway = await runGateway(await gatewayDatabase(), sessions);
    gatewayRates.push(gateway.rate);
    const label = `${engine}, ${sessions} sessions`;
    report(`${label}: floor (one commit per turn)`, floor.rate, 'turns/s');
    report(`${label}: gateway (echo turns)`, gateway.rate, 'turns/s');
    report(`${label}: floor p99`, floor.p99, 'ms');
    report(`${label}: gateway p99`, gateway.p99, 'ms');
    const target = sessions === SESSION_COUNTS[0] ? TARGET_RATIO : undefined;
    report(
      `${label}: gateway / floor`,
      gateway.rate / floor.rate,
      'x',
      target === undefined ? undefined : atLeast(target, `>= ${target}x`),
    );
    result(`session.message echo, ${label}`, 'turns/s', floor.rate, gateway.rate, target);
    result(`session.message p99 latency, ${label}`, 'ms', floor.p99, gateway.p99);
    // Sessions grow all through the run; a turn must not cost more as its session gets longer.
    const early = gateway.perSecond.slice(1, 4);
    const late = gateway.perSecond.slice(-3);
    const mean = (values) => values.reduce((sum, v) => sum + v, 0) / values.length;
    report(
      `${label}: gateway last 3 s / seconds 2-4`,
      lateOverEarly(gateway.perSecond) / 100,
      'x',
      atLeast(FLAT_RATIO, `>= ${FLAT_RATIO}x`),
    );
    result(
      `session.message as logs grow (turns/s, seconds 2-4 vs last 3), ${label}`,
      'turns/s',
      mean(early),
      mean(late),
      FLAT_RATIO,
    );
  }
  const [few, many] = gatewayRates;
  report(
    `${engine}: gateway ${SESSION_COUNTS[1]} / ${SESSION_COUNTS[0]} sessions`,
    many / few,
    'x',
    atLeast(FLAT_RATIO, `>= ${FLAT_RATIO}x`),
  );
  result(
    `session.message as sessions grow (turns/s, ${SESSION_COUNTS[0]} vs ${SESSION_COUNTS[1]} sessions), ${engine}`,
    'turns/s',
    few,
    many,
    FLAT_RATIO,
  );
}

// BENCH_ENGINES=postgres (or sqlite) measures one engine only, for an A/B of one write path.
const engines = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',');
if (engines.includes('sqlite')) {
  await measure(
    'SQLite',
    () => true,
    () => undefined,
  );
}
// PostgreSQL too when a server is given (BENCH_POSTGRES_URL=postgres://user@host/postgres).
if (process.env.BENCH_POSTGRES_URL && engines.includes('postgres')) {
  await measure('PostgreSQL', freshPostgresDatabase, freshPostgresDatabase);
}
printReport('session.message (every turn durable, log verified afterwards)');

const dir = join(ROOT, 'bench/results');
mkdirSync(dir, { recursive: true });
const file = join(dir, 'session-message.json');
writeFileSync(
  file,
  `${JSON.stringify(
    {
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
      at: new Date().toISOString(),
      seconds: SECONDS,
      results,
    },
    null,
    2,
  )}\n`,
);
console.log(`results written to ${file}`);
if (results.some((r) => r.pass === false)) process.exitCode = 1;
