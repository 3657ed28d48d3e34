import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_SECRET } from './auth-tokens.js';
import { postgresUrl, reportMissingPostgres } from './databases.js';
import { postRpc, type RpcReply } from './gateway.js';
import { reportMissingRedis, startTestRedis, type TestRedis } from './redis.js';
import { freePort, startNode, type RunningProcess } from './process.js';

/** Limits no test traffic meets: for suites whose subject is not rate limiting. */
export const HIGH_RATE_LIMITS = {
  client: { limit: 100_000, ttl: '60s' },
  session: { limit: 100_000, ttl: '60s' },
};

/** One gateway process of a test cluster, built from `dist` and run as operators run it. */
export interface ClusterInstance {
  readonly id: string;
  readonly baseUrl: string;
  readonly wsUrl: string;
  readonly process: RunningProcess;
  /** Sends a signal and resolves when the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ClusterOptions {
  /** The shared event log (a PostgreSQL URL). */
  databaseUrl: string;
  /** Redis for the bus and the limits, or none: PostgreSQL alone. */
  redisUrl?: string;
  /** openclaw.json for every instance (agents, limits…). */
  config?: Record<string, unknown>;
  /** Extra OPENCLAW_* variables. */
  env?: Record<string, string>;
}

export interface TestCluster {
  readonly instances: ClusterInstance[];
  /** Starts one more instance on the same database and Redis. */
  add(id?: string): Promise<ClusterInstance>;
  close(): Promise<void>;
}

/** Starts `count` gateway processes that share one database (and Redis, when given). */
export async function startCluster(count: number, options: ClusterOptions): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'openclaw-cluster-'));
  const configFile = join(dir, 'openclaw.json');
  writeFileSync(configFile, JSON.stringify(options.config ?? {}));
  const instances: ClusterInstance[] = [];
  let next = 0;

  const add = async (id = `gw-${String.fromCharCode(97 + next)}`): Promise<ClusterInstance> => {
    next++;
    const port = await freePort();
    const env: Record<string, string> = {
      OPENCLAW_CONFIG: configFile,
      OPENCLAW_HOST: '127.0.0.1',
      OPENCLAW_PORT: String(port),
      OPENCLAW_DATABASE_URL: options.databaseUrl,
      OPENCLAW_JWT_SECRET: TEST_SECRET,
      OPENCLAW_INSTANCE_ID: id,
      OPENCLAW_LOG_LEVEL: 'warn',
      ...(options.redisUrl ? { OPENCLAW_REDIS_URL: options.redisUrl } : {}),
      ...options.env,
    };
    const child = startNode(['dist/main.js', 'serve'], env);
    const instance: ClusterInstance = {
      id,
      baseUrl: `http://127.0.0.1:${port}`,
      wsUrl: `ws://127.0.0.1:${port}/ws`,
      process: child,
      async stop(signal = 'SIGTERM') {
        if (child.child.exitCode === null && child.child.signalCode === null) {
          child.child.kill(signal);
        }
        await child.exited;
      },
    };
    await waitForHealth(instance);
    instances.push(instance);
    return instance;
  };

  try {
    // One at a time: the first runs the migrations the others then find done.
    for (let i = 0; i < count; i++) await add();
  } catch (error) {
    await Promise.all(instances.map((instance) => instance.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    instances,
    add,
    async close() {
      await Promise.all(instances.map((instance) => instance.stop('SIGKILL')));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForHealth(instance: ClusterInstance, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (instance.process.child.exitCode !== null) {
      throw new Error(`gateway ${instance.id} exited: ${instance.process.stderr()}`);
    }
    try {
      const response = await fetch(`${instance.baseUrl}/health`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new Error(`gateway ${instance.id} not healthy: ${instance.process.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One way a multi-instance suite runs: PostgreSQL with Redis, or PostgreSQL alone. */
export interface ClusterMode {
  name: string;
  /** Its server is missing here (and was reported). */
  skip: boolean;
  redisUrl: () => string | undefined;
}

/**
 * The servers a multi-instance suite (`what`) needs, each missing one reported, and the modes
 * it runs in: PostgreSQL + Redis, then PostgreSQL alone.
 */
export async function clusterBackends(
  what: string,
): Promise<{ pg?: string; redis?: TestRedis; modes: ClusterMode[] }> {
  const pg = await postgresUrl();
  if (!pg) reportMissingPostgres(what);
  const redis = await startTestRedis();
  if (!redis) reportMissingRedis(what);
  const modes: ClusterMode[] = [
    { name: 'PostgreSQL + Redis', skip: !pg || !redis, redisUrl: () => redis?.url },
    { name: 'PostgreSQL alone', skip: !pg, redisUrl: () => undefined },
  ];
  return { pg, redis, modes };
}

/**
 * JSON-RPC over HTTP to one instance with the headers `headers()` gives (suites sign their
 * token in beforeAll): `call` returns the reply, `ok` its result (and throws on an error).
 */
export function instanceRpc(headers: () => Record<string, string>): {
  call: (gw: ClusterInstance, method: string, params: unknown) => Promise<RpcReply>;
  ok: (gw: ClusterInstance, method: string, params: unknown) => Promise<any>;
} {
  let id = 0;
  const call = async (gw: ClusterInstance, method: string, params: unknown): Promise<RpcReply> =>
    (
      await postRpc(
        gw.baseUrl,
        { jsonrpc: '2.0', id: ++id, method, params },
        { headers: headers() },
      )
    ).body as RpcReply;
  const ok = async (gw: ClusterInstance, method: string, params: unknown): Promise<any> => {
    const reply = await call(gw, method, params);
    if (reply.error) throw new Error(`${method}: ${JSON.stringify(reply.error)}`);
    return reply.result;
  };
  return { call, ok };
}
