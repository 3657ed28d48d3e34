import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { freePort } from './process.js';

/**
 * A Redis server for tests: `OPENCLAW_TEST_REDIS_URL` when set, else a throwaway
 * `redis-server` on a free loopback port (Debian's binary), else `undefined`.
 */
export interface TestRedis {
  url: string;
  /** Stops the server (throwaway servers only), to test an outage. */
  stop(): Promise<void>;
  /** Starts it again on the same port after stop(). */
  start(): Promise<void>;
  /** True when the server is ours and can be stopped. */
  readonly controllable: boolean;
}

export async function startTestRedis(): Promise<TestRedis | undefined> {
  const fromEnv = process.env.OPENCLAW_TEST_REDIS_URL;
  if (fromEnv) {
    return {
      url: fromEnv,
      controllable: false,
      stop: () => Promise.reject(new Error('OPENCLAW_TEST_REDIS_URL is not ours to stop')),
      start: () => Promise.resolve(),
    };
  }
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
