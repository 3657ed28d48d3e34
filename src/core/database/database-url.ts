import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import type { DataSourceOptions } from 'typeorm';

import type { MigrationClass } from './database-extension.js';

import { Initial1795527378843 } from './migrations/1795527378843-initial.js';
import { Auth1795600000000 } from './migrations/1795600000000-auth.js';
import { RefreshTokenHygiene1795700000000 } from './migrations/1795700000000-refresh-token-hygiene.js';
import { Cluster1795800000000 } from './migrations/1795800000000-cluster.js';
import { ToolApprovals1795900000000 } from './migrations/1795900000000-tool-approvals.js';
import { TokenUsage1795910000000 } from './migrations/1795910000000-token-usage.js';
import { AuditChain1795920000000 } from './migrations/1795920000000-audit-chain.js';
import { PartialIdempotencyIndex1795930000000 } from './migrations/1795930000000-partial-idempotency-index.js';

/**
 * Every migration, listed by class so the same code works from `src` and `dist`. Entities are not
 * listed here: features register theirs (TypeOrmModule.forFeature + autoLoadEntities), so core
 * never imports a feature. The built-in schema is one history, owned here; extension modules add
 * theirs through DatabaseExtensionOptions.
 */
export const DATABASE_MIGRATIONS = [
  Initial1795527378843,
  Auth1795600000000,
  RefreshTokenHygiene1795700000000,
  Cluster1795800000000,
  ToolApprovals1795900000000,
  TokenUsage1795910000000,
  AuditChain1795920000000,
  PartialIdempotencyIndex1795930000000,
];

export interface DataSourceBuildOptions {
  /** Run pending migrations when the data source initializes (default true). */
  migrationsRun?: boolean;
  /** Log every query through TypeORM's logger (default false). */
  logging?: boolean;
  /** Entity classes, for a data source built outside Nest (tests, scripts) or from extensions. */
  entities?: NonNullable<DataSourceOptions['entities']>;
  /** Extension modules' migrations; every pending one runs in timestamp order with the built-in. */
  migrations?: MigrationClass[];
}

/** How long a SQLite connection waits on a lock held by another process before SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/** Minimal view of a better-sqlite3 connection: only `pragma` is used here. */
interface SqlitePragmaTarget {
  pragma(source: string): unknown;
}

/**
 * Turns `database.url` into TypeORM data source options.
 *
 * Accepted: `sqlite:./relative.db`, `sqlite:/absolute.db`, `sqlite::memory:`,
 * `postgres://…` and `postgresql://…`. Anything else throws, naming the config key.
 */
export function buildDataSourceOptions(
  url: string,
  opts: DataSourceBuildOptions = {},
): DataSourceOptions {
  const common = {
    entities: opts.entities ?? [],
    migrations: [...DATABASE_MIGRATIONS, ...(opts.migrations ?? [])],
    migrationsRun: opts.migrationsRun ?? true,
    synchronize: false,
    logging: opts.logging ?? false,
  };

  if (url.startsWith('sqlite:')) {
    const database = sqlitePath(url);
    if (database !== ':memory:') mkdirSync(dirname(database), { recursive: true });
    return {
      ...common,
      type: 'better-sqlite3',
      database,
      timeout: SQLITE_BUSY_TIMEOUT_MS,
      prepareDatabase: (db: SqlitePragmaTarget) => {
        // WAL lets readers run beside the writer; synchronous=FULL fsyncs the WAL on every
        // commit, so an acknowledged event survives a power loss, not only a process crash.
        if (database !== ':memory:') db.pragma('journal_mode = WAL');
        db.pragma('synchronous = FULL');
        db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
        db.pragma('foreign_keys = ON');
      },
    };
  }

  if (/^postgres(ql)?:\/\//.test(url)) {
    return {
      ...common,
      type: 'postgres',
      url,
      // An acknowledged event must be on disk: never let a session turn synchronous_commit off.
      extra: { options: '-c synchronous_commit=on' },
    };
  }

  throw new Error(
    `database.url: unsupported URL "${redact(url)}"; expected sqlite:<path>, sqlite::memory: or postgres://…`,
  );
}

/** The database family a URL points at, without building anything. */
export function databaseKind(url: string): 'sqlite' | 'postgres' | undefined {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  return undefined;
}

/** The file a `sqlite:` URL points at (absolute), or `:memory:`. */
export function sqlitePath(url: string): string {
  const rest = url.slice('sqlite:'.length);
  if (rest === ':memory:') return ':memory:';
  // Tolerate the `sqlite://path` spelling some tools write.
  const path = rest.startsWith('//') ? rest.slice(2) : rest;
  if (path === '')
    throw new Error('database.url: sqlite URL has no file path (sqlite:./data/openclaw.db)');
  return resolve(path);
}

/** Hides a password so the error can be logged. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
