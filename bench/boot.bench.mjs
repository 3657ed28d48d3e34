// Boot: cold start (process spawn to the first /health 200), idle RSS, and memory per idle
// authenticated WebSocket, the gateway on its default config (SQLite in a fresh directory, echo
// agent, no MCP servers, dashboard on) against the bare floor (Fastify + ws, the same HS256 check).
// BENCH_DIST=/path/to/dist measures another build (it must resolve node_modules and ../public).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { inspect } from './inspector.mjs';
import { ROOT, SECRET, compareWith, freePort, printReport, report, token } from './support.mjs';

const DIST = process.env.BENCH_DIST ?? join(ROOT, 'dist');
const RUNS = 5;
/** After /health answers, the process is left alone this long before its RSS is read. */
const SETTLE_MS = 2_000;
/** How long the settled figure waits for V8 to return the boot's garbage (it does, idle). */
const IDLE_MS = Number(process.env.BENCH_IDLE_SECONDS ?? 30) * 1000;
const SOCKETS = 1_000;
/** Sockets in the measured step: enough that V8's heap growing in steps of a few MB is noise. */
const MORE_SOCKETS = 4_000;
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * The gateway's compile cache (OPENCLAW_COMPILE_CACHE), empty when the run starts: the first boot
 * compiles and fills it, the next ones read it (the median of 5 is theirs; the first is reported).
 */
const COMPILE_CACHE = mkdtempSync(join(tmpdir(), 'openclaw-boot-compile-cache-'));

/** Resident and peak resident memory of a process, in MB (Linux's /proc). */
function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Spawns the gateway (as users run it) or the floor, and times it until /health answers 200. */
async function start(kind, config = {}, nodeArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), `openclaw-boot-${kind}-`));
  const port = await freePort();
  writeFileSync(join(dir, 'openclaw.json'), JSON.stringify(config));
  const args = [
    ...nodeArgs,
    ...(kind === 'gateway'
      ? [join(DIST, 'main.js'), 'serve']
      : [join(ROOT, 'bench/floor-server.mjs'), String(port)]),
  ];
  const spawned = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      OPENCLAW_PORT: String(port),
      OPENCLAW_JWT_SECRET: SECRET,
      OPENCLAW_DATABASE_URL: `sqlite:${join(dir, 'openclaw.db')}`,
      OPENCLAW_CONFIG: join(dir, 'openclaw.json'),
      OPENCLAW_COMPILE_CACHE: COMPILE_CACHE,
    },
    // An inspected process announces its inspector on stderr: not the benchmark's output.
    stdio: ['ignore', 'ignore', nodeArgs.length > 0 ? 'ignore' : 'inherit'],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  // Polled every 5 ms: the figure is the first 200, not the poll interval.
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${kind} exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${kind} did not become healthy`);
    const ok = await fetch(`${baseUrl}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) break;
    await delay(5);
  }
  const coldStartMs = performance.now() - spawned;
  return {
    coldStartMs,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    memory: () => memory(child.pid),
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Cold start and RSS after a settle, median of RUNS, gateway and floor taking turns. */
async function boots(kind) {
  const server = await start(kind);
  await delay(SETTLE_MS);
  const { rss, peak } = server.memory();
  await server.close();
  return { coldStartMs: server.coldStartMs, rss, peak };
}

/** The lowest RSS an idle process reaches within IDLE_MS: V8 returns the boot's garbage late. */
async function settled(kind) {
  const server = await start(kind);
  let lowest = Infinity;
  for (const until = Date.now() + IDLE_MS; Date.now() < until; await delay(500)) {
    lowest = Math.min(lowest, server.memory().rss);
  }
  await server.close();
  return lowest;
}

function connect(url, headers) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, ['openclaw.v1'], { headers });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Bearer headers for SOCKETS + MORE_SOCKETS connections, each with its own subject. */
async function socketHeaders(prefix) {
  const tokens = await Promise.all(
    Array.from({ length: SOCKETS + MORE_SOCKETS }, (_, i) => token(`${prefix}-${i}`)),
  );
  return tokens.map((t) => ({ authorization: `Bearer ${t}` }));
}

/** Opens one connection per set of headers, 50 at a time. */
async function openSockets(url, headerSets) {
  const sockets = [];
  for (let i = 0; i < headerSets.length; i += 50) {
    const batch = headerSets.slice(i, i + 50);
    sockets.push(...(await Promise.all(batch.map((headers) => connect(url, headers)))));
  }
  return sockets;
}

/**
 * RSS added per idle authenticated connection (KB), each with its own subject: by the first
 * SOCKETS opened after boot, and by MORE_SOCKETS more. The first figure is partly absorbed by memory
 * the process had committed and not used (more of it in a bigger process); the second is what a
 * connection costs once that slack is gone.
 */
async function perConnection(kind, config) {
  const headers = await socketHeaders('boot-bench');
  const server = await start(kind, config);
  const sockets = [];
  const open = async (from, count) => {
    sockets.push(...(await openSockets(server.wsUrl, headers.slice(from, from + count))));
    await delay(SETTLE_MS);
    return server.memory().rss;
  };
  await delay(SETTLE_MS);
  const before = server.memory().rss;
  const first = await open(0, SOCKETS);
  const second = await open(SOCKETS, MORE_SOCKETS);
  for (const socket of sockets) socket.terminate();
  await server.close();
  return {
    first: ((first - before) * 1024) / SOCKETS,
    next: ((second - first) * 1024) / MORE_SOCKETS,
  };
}

/**
 * The same step measured without the garbage: JS heap and RSS per socket after full collections
 * (through an inspector attached to the process), before and after the MORE_SOCKETS. What a
 * socket keeps, where the RSS figure above also reads whatever V8 had not collected yet.
 */
async function perConnectionAfterGc(kind, config) {
  const headers = await socketHeaders('boot-gc');
  const inspectorPort = await freePort();
  const server = await start(kind, config, [`--inspect=127.0.0.1:${inspectorPort}`]);
  const inspector = await inspect(inspectorPort);
  const sockets = [];
  const open = async (from, count) => {
    sockets.push(...(await openSockets(server.wsUrl, headers.slice(from, from + count))));
    const heap = await inspector.heapAfterGc();
    return { heap, rss: server.memory().rss };
  };
  const warm = await open(0, SOCKETS);
  const more = await open(SOCKETS, MORE_SOCKETS);
  for (const socket of sockets) socket.terminate();
  inspector.close();
  await server.close();
  return {
    heap: (more.heap - warm.heap) / 1024 / MORE_SOCKETS,
    rss: ((more.rss - warm.rss) * 1024) / MORE_SOCKETS,
  };
}

const runs = { gateway: [], floor: [] };
for (let i = 0; i < RUNS; i++) {
  runs.floor.push(await boots('floor'));
  runs.gateway.push(await boots('gateway'));
}
const [gatewaySettled, floorSettled] = await Promise.all([settled('gateway'), settled('floor')]);
const many = {
  maxConnectionsPerIp: SOCKETS + MORE_SOCKETS,
  maxConnectionsPerSubject: SOCKETS + MORE_SOCKETS,
};
const unlimited = { ws: many, rateLimit: { client: { limit: 1_000_000_000, ttl: '1h' } } };
// An RSS delta moves with the collector's timing: the median of three runs, taking turns.
const perSocket = { floor: [], gateway: [] };
for (let i = 0; i < 3; i++) {
  perSocket.floor.push(await perConnection('floor'));
  perSocket.gateway.push(await perConnection('gateway', unlimited));
}

const pick = (kind, key) => median(runs[kind].map((run) => run[key]));
compareWith(
  'cold start to /health 200 (median of 5)',
  'ms',
  pick('floor', 'coldStartMs'),
  pick('gateway', 'coldStartMs'),
  { label: '< 1000 ms', check: (gateway) => gateway < 1000 },
);
compareWith(
  `idle RSS ${SETTLE_MS / 1000} s after /health (median of 5)`,
  'MB',
  pick('floor', 'rss'),
  pick('gateway', 'rss'),
  { label: '< 120 MB', check: (gateway) => gateway < 120 },
);
// Collected memory moves little from run to run: one run each.
const afterGc = {
  floor: await perConnectionAfterGc('floor'),
  gateway: await perConnectionAfterGc('gateway', unlimited),
};
const perSocketOf = (kind, key) => median(perSocket[kind].map((run) => run[key]));
compareWith(
  `RSS per idle authenticated WebSocket, ${MORE_SOCKETS.toLocaleString('en-US')} more (median of 3)`,
  'KB',
  perSocketOf('floor', 'next'),
  perSocketOf('gateway', 'next'),
  { label: '<= 1.0 of floor', check: (_gateway, ratio) => ratio <= 1 },
);
compareWith(
  `JS heap per idle authenticated WebSocket after full GCs, ${MORE_SOCKETS.toLocaleString('en-US')} more`,
  'KB',
  afterGc.floor.heap,
  afterGc.gateway.heap,
);
compareWith(
  `RSS per idle authenticated WebSocket after full GCs, ${MORE_SOCKETS.toLocaleString('en-US')} more`,
  'KB',
  afterGc.floor.rss,
  afterGc.gateway.rss,
);
report('cold start, first boot (empty compile cache): gateway', runs.gateway[0].coldStartMs, 'ms');
report(
  `RSS per socket, the first ${SOCKETS} after boot: floor`,
  perSocketOf('floor', 'first'),
  'KB',
);
report(
  `RSS per socket, the first ${SOCKETS} after boot: gateway`,
  perSocketOf('gateway', 'first'),
  'KB',
);
report('peak RSS while booting (VmHWM, median of 5): floor', pick('floor', 'peak'), 'MB');
report('peak RSS while booting (VmHWM, median of 5): gateway', pick('gateway', 'peak'), 'MB');
report(`lowest idle RSS within ${IDLE_MS / 1000} s: floor`, floorSettled, 'MB');
report(`lowest idle RSS within ${IDLE_MS / 1000} s: gateway`, gatewaySettled, 'MB');
printReport('Boot', 'boot');
rmSync(COMPILE_CACHE, { recursive: true, force: true });
