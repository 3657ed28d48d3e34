import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, Socket, connect, type Server } from 'node:net';
import { freePort } from './process.js';

/**
 * A Redis server for tests: `OPENCLAW_TEST_REDIS_URL` when set (reached through a loopback TCP
 * relay, so that an outage can be played without touching the server), else a throwaway
 * `redis-server` on a free loopback port (Debian's binary), else `undefined`.
 */
export interface TestRedis {
  url: string;
  /** Makes the server unreachable (stops a throwaway server, or cuts the relay), for an outage. */
  stop(): Promise<void>;
  /** Makes it reachable again on the same URL after stop(). */
  start(): Promise<void>;
  /** True when an outage can be played: always, since an external server is relayed. */
  readonly controllable: boolean;
}

export async function startTestRedis(): Promise<TestRedis | undefined> {
  const fromEnv = process.env.OPENCLAW_TEST_REDIS_URL;
  if (fromEnv) return relayTo(fromEnv);
  if (spawnSync('redis-server', ['--version']).status !== 0) return undefined;
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    child = proc;
    process.once('exit', () => proc.kill('SIGKILL'));
    await waitForPort(port);
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, controllable: true, stop, start };
}

/**
 * A loopback TCP relay in front of a Redis server we do not own: stop() closes the listener and
 * every relayed connection (clients see the server go away), start() listens again on the port.
 * The URL keeps the original's credentials, database and scheme; only host and port change.
 */
async function relayTo(target: string): Promise<TestRedis> {
  const upstream = new URL(target);
  if (upstream.protocol !== 'redis:') {
    throw new Error('OPENCLAW_TEST_REDIS_URL: only redis:// can be relayed for the outage test');
  }
  const upstreamPort = Number(upstream.port || 6379);
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const relay = createServer((client) => {
        const remote = connect(upstreamPort, upstream.hostname);
        for (const socket of [client, remote]) {
          sockets.add(socket);
          socket.on('error', () => undefined);
          socket.once('close', () => sockets.delete(socket));
        }
        client.pipe(remote).pipe(client);
        client.once('close', () => remote.destroy());
        remote.once('close', () => client.destroy());
      });
      relay.once('error', reject);
      relay.listen(port, '127.0.0.1', () => {
        server = relay;
        resolve();
      });
    });
  const stop = async (): Promise<void> => {
    const relay = server;
    server = undefined;
    if (!relay) return;
    const closed = new Promise<void>((resolve) => relay.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  await start();
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return { url: url.toString(), controllable: true, stop, start };
}

/** In CI a missing Redis fails the suite (a skipped suite hides a defect); elsewhere it warns. */
export function reportMissingRedis(suite: string): void {
  const message =
    `${suite}: no Redis available (set OPENCLAW_TEST_REDIS_URL or install ` +
    `Debian's redis-server package); the suite is skipped`;
  if (process.env.CI) throw new Error(`${message}, which CI does not allow`);
  console.warn(`\n⚠ ${message}.\n`);
}

async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
