// Shared pieces of the benchmarks: servers in child processes (so the load generator in this
// process never shares an event loop with what it measures), load runs, and the report.
import autocannon from 'autocannon';
import { SignJWT } from 'jose';
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os, { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
export const SECRET = 'bench-secret-of-at-least-thirty-two-bytes!';
export const ALL_SCOPES = 'sessions:read sessions:write agents:read tools:read tools:execute admin';

/** Seconds each measured run lasts; `BENCH_SECONDS=3` for a quick look. */
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

export function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

export async function token(sub = 'bench') {
  return new SignJWT({ sub, scope: ALL_SCOPES })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(SECRET));
}

async function waitForHealth(baseUrl, child) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${baseUrl}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${baseUrl} did not become healthy`);
}

function stop(child) {
  return new Promise((done) => {
    if (child.exitCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

/**
 * Starts the built gateway (`dist/main.js serve`) as users run it: file-backed SQLite in a
 * temporary data directory, info-level logs, with the given openclaw.json (and `env`, such as
 * OTEL_* variables).
 */
export async function startGateway(config = {}, { databaseUrl, redisUrl, env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'openclaw-bench-'));
  const port = await freePort();
  writeFileSync(join(dir, 'openclaw.json'), JSON.stringify(config));
  // e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the gateway under load.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist/main.js'), 'serve'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      OPENCLAW_PORT: String(port),
      OPENCLAW_JWT_SECRET: SECRET,
      OPENCLAW_DATABASE_URL: databaseUrl ?? `sqlite:${join(dir, 'openclaw.db')}`,
      OPENCLAW_CONFIG: join(dir, 'openclaw.json'),
      ...(redisUrl ? { OPENCLAW_REDIS_URL: redisUrl } : {}),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHealth(baseUrl, child);
  return {
    baseUrl,
    pid: child.pid,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    dir,
    async close() {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a floor: bare Fastify and ws answering JSON-RPC with no gateway in between, or with
 * `nest: true` the same call through a bare Nest application.
 */
export async function startFloor({ database = false, nest = false } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'openclaw-floor-'));
  const script = nest ? 'bench/nest-floor-server.mjs' : 'bench/floor-server.mjs';
  const args = [join(ROOT, script), String(port)];
  // `database: true` is a SQLite file; a postgres:// URL is that (empty) database.
  if (database) args.push(database === true ? join(dir, 'floor.db') : database);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHealth(baseUrl, child);
  return {
    baseUrl,
    pid: child.pid,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    async close() {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const AGENT_LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'agent.list', params: {} });

/**
 * `POST /rpc agent.list` under load from `connections` connections, after one checked call: a
 * benchmark of error replies would measure nothing. Throws on any non-2xx reply or error.
 */
export async function loadAgentList(baseUrl, headers, connections) {
  const options = {
    url: `${baseUrl}/rpc`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: AGENT_LIST,
  };
  const reply = await (await fetch(options.url, options)).json();
  if (!Array.isArray(reply.result)) throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
  const result = await load({ ...options, connections });
  if (result.non2xx || result.errors) {
    throw new Error(`${result.non2xx} non-2xx replies and ${result.errors} errors`);
  }
  return result;
}

/**
 * Runs autocannon and returns requests per second overall and per second of the run, latency
 * percentiles and every non-2xx or JSON-RPC error seen (a benchmark of errors measures nothing).
 */
export async function load(options) {
  const perSecond = [];
  let count = 0;
  const instance = autocannon({ connections: 32, duration: SECONDS, ...options });
  const ticker = setInterval(() => {
    perSecond.push(count);
    count = 0;
  }, 1000);
  instance.on('response', () => count++);
  const result = await instance;
  clearInterval(ticker);
  return {
    rps: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    perSecond,
  };
}

const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;

/**
 * Throughput of a run's last three seconds against seconds 2-4, in percent: 100 is flat. The
 * first second is left out, as it includes warm-up (JIT, connection setup).
 */
export function lateOverEarly(perSecond) {
  return (mean(perSecond.slice(-3)) / mean(perSecond.slice(1, 4))) * 100;
}

const rows = [];

/**
 * A new, empty database on the PostgreSQL server at `BENCH_POSTGRES_URL` (which must let its user
 * create databases), or undefined when the variable is not set.
 */
export async function freshPostgresDatabase() {
  const base = process.env.BENCH_POSTGRES_URL;
  if (!base) return undefined;
  const { default: pg } = await import('pg');
  const name = `bench_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Records a figure; `target` (optional) is checked and makes the run fail when missed. */
export function report(name, value, unit, target) {
  const met = target ? target.check(value) : undefined;
  rows.push({ name, value, unit, target: target?.label ?? '', met });
}

export const atLeast = (minimum, label = `>= ${minimum}`) => ({
  label,
  check: (value) => value >= minimum,
});

export const atMost = (maximum, label = `<= ${maximum}`) => ({
  label,
  check: (value) => value <= maximum,
});

const comparisons = [];

/**
 * A gateway figure against its floor from the same run: both are reported, and the ratio is
 * checked against `minRatio` (a missed target fails the run).
 */
export function compare(name, unit, floor, gateway, minRatio) {
  const ratio = gateway / floor;
  const pass = minRatio === undefined ? undefined : ratio >= minRatio;
  report(`${name}: floor`, floor, unit);
  report(`${name}: gateway`, gateway, unit);
  report(
    `${name}: gateway / floor`,
    ratio,
    'x',
    minRatio === undefined ? undefined : atLeast(minRatio),
  );
  comparisons.push({
    name,
    unit,
    floor,
    gateway,
    ratio,
    target: minRatio === undefined ? null : `>= ${minRatio}`,
    pass: pass ?? null,
  });
}

/**
 * A gateway figure against its floor from the same run, for targets that are not "ratio at
 * least": `target.check(gateway, ratio)` decides (an absolute bound, or a ratio at most).
 */
export function compareWith(name, unit, floor, gateway, target) {
  const ratio = gateway / floor;
  const pass = target ? target.check(gateway, ratio) : undefined;
  report(`${name}: floor`, floor, unit);
  report(`${name}: gateway`, gateway, unit);
  report(
    `${name}: gateway / floor`,
    ratio,
    'x',
    target && { label: target.label, check: () => pass },
  );
  comparisons.push({
    name,
    unit,
    floor,
    gateway,
    ratio,
    target: target?.label ?? null,
    pass: pass ?? null,
  });
}

/** The machine a run was made on, as the results files and the README table say it. */
export function machine() {
  const cpus = os.cpus();
  return { cpus: cpus.length, model: cpus[0]?.model ?? 'unknown', node: process.version };
}

/**
 * Writes bench/results/<name>.json: the comparisons (floor, gateway, ratio, target) and every
 * other figure of the run. `npm run bench:table` turns the files into the README's table.
 */
function writeResults(name) {
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const figures = rows.map((row) => ({
    name: row.name,
    value: row.value,
    unit: row.unit,
    target: row.target || null,
    pass: row.met ?? null,
  }));
  const document = {
    machine: machine(),
    at: new Date().toISOString(),
    results: comparisons,
    figures,
  };
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(document, null, 2)}\n`);
  comparisons.length = 0;
}

/** Prints the table, writes the results file when named, and sets the exit code from the targets. */
export function printReport(title, resultsName) {
  const format = (value) =>
    typeof value === 'number' ? value.toLocaleString('en-US', { maximumFractionDigits: 2 }) : value;
  console.log(`\n${title} (${SECONDS} s per run, node ${process.version})`);
  for (const row of rows) {
    const verdict = row.met === undefined ? '' : row.met ? '  ok' : '  MISSED';
    console.log(
      `  ${row.name.padEnd(52)} ${format(row.value).padStart(12)} ${row.unit.padEnd(8)} ${row.target}${verdict}`,
    );
  }
  if (rows.some((row) => row.met === false)) process.exitCode = 1;
  if (resultsName) writeResults(resultsName);
  rows.length = 0;
}

/** POSTs a JSON-RPC call and resolves with its result (rejects with its error). */
export function post(agent, url, body, headers) {
  return new Promise((done, fail) => {
    const payload = JSON.stringify(body);
    const call = request(
      url,
      {
        agent,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          ...headers,
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => {
          const reply = JSON.parse(text);
          if (reply.error) fail(new Error(JSON.stringify(reply.error)));
          else done(reply.result);
        });
      },
    );
    call.on('error', fail);
    call.end(payload);
  });
}

/**
 * One worker per session, each sending its next message as soon as the last is answered. `url`
 * may be a function of the call's number, to spread calls over several gateways.
 */
export async function drive(url, method, sessionKeys, headers) {
  const agent = new Agent({ keepAlive: true, maxSockets: sessionKeys.length });
  const until = Date.now() + SECONDS * 1000;
  const started = Date.now();
  const latencies = [];
  const perSecond = [];
  const turns = await Promise.all(
    sessionKeys.map(async (sessionKey) => {
      let count = 0;
      while (Date.now() < until) {
        const sent = performance.now();
        await post(
          agent,
          typeof url === 'function' ? url(count) : url,
          {
            jsonrpc: '2.0',
            id: count,
            method,
            params: { sessionKey, content: `message ${count} of a benchmark turn` },
          },
          headers,
        );
        latencies.push(performance.now() - sent);
        const second = Math.floor((Date.now() - started) / 1000);
        perSecond[second] = (perSecond[second] ?? 0) + 1;
        count++;
      }
      return count;
    }),
  );
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    turns,
    rate: turns.reduce((sum, n) => sum + n, 0) / ((Date.now() - started) / 1000),
    p99: latencies[Math.floor(latencies.length * 0.99)],
    perSecond: perSecond.slice(0, SECONDS),
  };
}
