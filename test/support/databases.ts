import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { freePort } from './process.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

/**
 * Test databases. `sqliteUrl()` gives a fresh SQLite file; `postgresUrl()` gives a fresh,
 * empty PostgreSQL database, from `OPENCLAW_TEST_POSTGRES_URL` when set, else from a
 * throwaway cluster started with Debian's binaries, else `undefined`.
 */

/** A `sqlite:` URL for a new file in a new temporary directory. */
export function sqliteUrl(): string {
  const dir = mkdtempSync(join(tmpdir(), 'openclaw-sqlite-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return `sqlite:${join(dir, 'openclaw.db')}`;
}

let server: Promise<string | undefined> | undefined;

/** URL of a fresh, empty PostgreSQL database (one per call), or `undefined` when none can be had. */
export async function postgresUrl(): Promise<string | undefined> {
  server ??= serverUrl();
  const base = await server;
  if (base === undefined) return undefined;
  const name = `test_${randomBytes(6).toString('hex')}`;
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

/**
 * What a suite should do when PostgreSQL is unavailable: in CI that is a failure (a skipped
 * suite hides a defect), elsewhere a loud warning and a skip.
 */
export function reportMissingPostgres(suite: string): void {
  const message =
    `${suite}: no PostgreSQL available (set OPENCLAW_TEST_POSTGRES_URL or install ` +
    `Debian's postgresql package); the PostgreSQL variant is skipped`;
  if (process.env.CI) throw new Error(`${message}, which CI does not allow`);
  console.warn(`\n⚠ ${message}.\n`);
}

/** One database a storage suite runs on, for `describe.each`. */
export interface StorageEngine {
  name: string;
  /** A fresh database's URL (each PostgreSQL call gives a new one). */
  url: () => Promise<string>;
  /** Not available here (and reported). */
  skip: boolean;
}

/** SQLite and PostgreSQL for a storage suite (`suite`), a missing PostgreSQL reported. */
export async function storageEngines(
  suite: string,
  sqliteName = 'SQLite',
): Promise<StorageEngine[]> {
  const postgresAvailable = (await postgresUrl()) !== undefined;
  if (!postgresAvailable) reportMissingPostgres(suite);
  return [
    { name: sqliteName, url: () => Promise.resolve(sqliteUrl()), skip: false },
    { name: 'PostgreSQL', url: async () => (await postgresUrl())!, skip: !postgresAvailable },
  ];
}

async function serverUrl(): Promise<string | undefined> {
  const fromEnv = process.env.OPENCLAW_TEST_POSTGRES_URL;
  if (fromEnv) return fromEnv;
  const bin = debianPostgresBin();
  return bin === undefined ? undefined : startThrowawayCluster(bin);
}

function debianPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], 'bin') : undefined;
}

/** A PostgreSQL server of a test's own, which it may stop (an outage) and start again. */
export interface OwnPostgres {
  /** A database on it, created empty. */
  url: string;
  stop(): void;
  start(): void;
}

/** A server of its own for a test that takes PostgreSQL down; undefined where none can be had. */
export async function startOwnPostgres(): Promise<OwnPostgres | undefined> {
  const bin = debianPostgresBin();
  if (bin === undefined) return undefined;
  const cluster = await startCluster(bin);
  return { url: cluster.url, stop: cluster.pause, start: cluster.resume };
}

async function startThrowawayCluster(bin: string): Promise<string> {
  return (await startCluster(bin)).url;
}

async function startCluster(
  bin: string,
): Promise<{ url: string; pause: () => void; resume: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'openclaw-pg-'));
  const data = join(dir, 'data');
  // initdb refuses to run as root: run the cluster as the `postgres` OS user then.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const ids = ['-u', '-g'].map((flag) => Number(run('id', [flag, 'postgres']).trim()));
    chownSync(dir, ids[0], ids[1]);
  }
  const pgRun = (cmd: string, args: string[]): string =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args])
      : run(join(bin, cmd), args);

  pgRun('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  // fsync=off only speeds up this throwaway cluster; production durability is not under test here.
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const resume = (): void => {
    pgRun('pg_ctl', ['-D', data, '-o', serverOptions, '-l', join(dir, 'log'), '-w', 'start']);
  };
  const pause = (): void => {
    pgRun('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  };
  resume();

  const stop = (): void => {
    const args = ['-D', data, '-m', 'immediate', 'stop'];
    spawnSync(
      asRoot ? 'runuser' : join(bin, 'pg_ctl'),
      asRoot ? ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args] : args,
    );
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stop();
      process.exit(1);
    });
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, pause, resume };
}

function run(cmd: string, args: string[]): string {
  const result = spawnSync(cmd, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`,
    );
  }
  return result.stdout;
}
