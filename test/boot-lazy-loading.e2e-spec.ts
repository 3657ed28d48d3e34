import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signToken, TEST_SECRET } from './support/auth-tokens.js';
import { postgresUrl, reportMissingPostgres } from './support/databases.js';
import { freePort, ROOT, startNode, type RunningProcess } from './support/process.js';
import { reportMissingRedis, startTestRedis, type TestRedis } from './support/redis.js';

// The built gateway (`npm test` builds first); OPENCLAW_TEST_DIST points at another build.
const DIST = process.env.OPENCLAW_TEST_DIST ?? join(ROOT, 'dist');
const RECORDER = join(import.meta.dirname, 'fixtures/record-imports.mjs');
const WITHOUT_DASHBOARD = join(import.meta.dirname, 'fixtures/serve-without-dashboard.mjs');

/** What tracing loads when OTEL_EXPORTER_OTLP_ENDPOINT is set, and only then. */
const TRACING = [
  '@opentelemetry/api',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/otlp-exporter-base',
  '@opentelemetry/resources',
  '@opentelemetry/context-async-hooks',
  '@opentelemetry/core',
];

/** What the default config must not load: each is loaded only when the config uses it. */
const OPTIONAL = [
  'ai',
  '@ai-sdk/openai',
  '@ai-sdk/anthropic',
  '@ai-sdk/openai-compatible',
  '@modelcontextprotocol/sdk',
  'zod',
  'ioredis',
  'pg',
  'prom-client',
  '@nestjs/serve-static',
  // class-validator's index (every decorator, with validator.js and libphonenumber-js) and the
  // JSON Schema package that needs it: the built-in params classes convert without them.
  'libphonenumber-js',
  'class-validator-jsonschema',
  // Tracing is off unless OTEL_* asks for it: no OpenTelemetry package at all.
  ...TRACING,
];

interface RecordedGateway {
  baseUrl: string;
  /** Packages (by name) and files of packages the process has resolved so far. */
  packages(): Set<string>;
  urls(): string[];
  stop(): Promise<void>;
}

function packageOf(url: string): string | undefined {
  return /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
}

/** Starts a gateway process that records every module it resolves; resolves once /health is 200. */
async function bootRecorded(
  options: { config?: object; env?: Record<string, string>; entry?: string[] } = {},
): Promise<RecordedGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'openclaw-lazy-'));
  const record = join(dir, 'imports.txt');
  writeFileSync(record, '');
  writeFileSync(join(dir, 'openclaw.json'), JSON.stringify(options.config ?? {}));
  const port = await freePort();
  const entry = options.entry ?? [join(DIST, 'main.js'), 'serve'];
  const proc: RunningProcess = startNode(
    ['--import', RECORDER, ...entry],
    {
      OPENCLAW_PORT: String(port),
      OPENCLAW_JWT_SECRET: TEST_SECRET,
      OPENCLAW_DATABASE_URL: `sqlite:${join(dir, 'openclaw.db')}`,
      OPENCLAW_CONFIG: join(dir, 'openclaw.json'),
      OPENCLAW_LOG_LEVEL: 'warn',
      RECORD_IMPORTS_TO: record,
      GATEWAY_DIST: DIST,
      ...options.env,
    },
    dir,
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`gateway exited: ${proc.stderr()}`);
    if (Date.now() > deadline) throw new Error(`gateway did not become healthy: ${proc.stderr()}`);
    const ok = await fetch(`${baseUrl}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const urls = (): string[] => readFileSync(record, 'utf8').split('\n').filter(Boolean);
  return {
    baseUrl,
    urls,
    packages: () => new Set(urls().flatMap((url) => packageOf(url) ?? [])),
    async stop() {
      proc.child.kill('SIGTERM');
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const running: RecordedGateway[] = [];
async function boot(options?: Parameters<typeof bootRecorded>[0]): Promise<RecordedGateway> {
  const gateway = await bootRecorded(options);
  running.push(gateway);
  return gateway;
}
afterAll(async () => {
  await Promise.all(running.map((gateway) => gateway.stop()));
});

describe('serve runs from the server bundle', () => {
  it('loads Nest and our modules from dist/main.js and its chunks, not from their own files', async () => {
    const gateway = await boot();
    const urls = gateway.urls().filter((url) => url.startsWith('file:'));
    // One copy of Nest, in the bundle: a package built on Nest loaded from node_modules would
    // bring a second @nestjs/common with it (other classes, other DI tokens).
    const nest = urls.filter((url) => /\/node_modules\/(@nestjs\/|nestjs-pino\/)/.test(url));
    expect(nest).toEqual([]);
    const ours = urls.filter((url) => url.startsWith(`file://${DIST}/`));
    const outside = ours.filter(
      (url) => url !== `file://${DIST}/main.js` && !url.startsWith(`file://${DIST}/bundle/`),
    );
    expect(outside).toEqual([]);
    expect(ours.length).toBeGreaterThan(1);
    expect(ours.length).toBeLessThan(30);
    // What the bundle leaves to node_modules is still loaded from there (Fastify, TypeORM, …).
    expect(gateway.packages().has('fastify')).toBe(true);
    expect(gateway.packages().has('typeorm')).toBe(true);
  });
});

describe('boot loads optional dependencies only when the config uses them', () => {
  it('on the default config: no provider SDK, MCP SDK, zod, Redis or PostgreSQL client, prom-client', async () => {
    const gateway = await boot();
    const loaded = gateway.packages();
    for (const name of OPTIONAL) expect(loaded.has(name), name).toBe(false);
    expect(loaded.has('better-sqlite3')).toBe(true);
    expect(gateway.urls().filter((url) => url.endsWith('/class-validator/cjs/index.js'))).toEqual(
      [],
    );
    // The dashboard is on by default: its static files are served when a build is there.
    if (!existsSync(join(ROOT, 'public/index.html'))) {
      throw new Error('public/index.html is missing: run `npm run build` first');
    }
    expect(loaded.has('@fastify/static')).toBe(true);
  });

  it("publishes rpc.discover without class-validator-jsonschema or class-validator's index", async () => {
    const gateway = await boot();
    const token = await signToken({ sub: 'reader', scope: 'agents:read' });
    const response = await fetch(`${gateway.baseUrl}/rpc`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'rpc.discover' }),
    });
    const { result } = (await response.json()) as {
      result: { methods: Array<{ name: string; params: unknown[] }> };
    };
    const create = result.methods.find((method) => method.name === 'session.create');
    expect(JSON.stringify(create?.params)).toContain('"maxLength"');
    expect(gateway.packages().has('class-validator-jsonschema')).toBe(false);
    expect(gateway.urls().some((url) => url.endsWith('/class-validator/cjs/index.js'))).toBe(false);
  });

  it('loads prom-client on the first /metrics scrape, not before', async () => {
    const gateway = await boot();
    expect(gateway.packages().has('prom-client')).toBe(false);
    const token = await signToken({ sub: 'monitor', scope: 'admin' });
    const scrape = await fetch(`${gateway.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toContain('openclaw_rpc_calls_in_flight');
    expect(gateway.packages().has('prom-client')).toBe(true);
  });

  it('loads the AI SDK with only the configured provider, and the MCP client with only its transport', async () => {
    const closed = await freePort();
    const gateway = await boot({
      config: {
        agents: [
          {
            id: 'local',
            provider: 'openai-compatible',
            model: 'm',
            baseUrl: 'http://127.0.0.1:9/v1',
          },
        ],
        // Unreachable: boot goes on and reconnects in the background; the client is loaded anyway.
        mcpServers: { remote: { url: `http://127.0.0.1:${closed}/mcp` } },
      },
    });
    const loaded = gateway.packages();
    expect(loaded.has('ai')).toBe(true);
    expect(loaded.has('@ai-sdk/openai-compatible')).toBe(true);
    expect(loaded.has('@ai-sdk/openai')).toBe(false);
    expect(loaded.has('@ai-sdk/anthropic')).toBe(false);
    expect(loaded.has('@modelcontextprotocol/sdk')).toBe(true);
    const urls = gateway.urls();
    expect(urls.some((url) => url.endsWith('/client/streamableHttp.js'))).toBe(true);
    expect(urls.some((url) => url.endsWith('/client/stdio.js'))).toBe(false);
    expect(loaded.has('ioredis')).toBe(false);
    expect(loaded.has('pg')).toBe(false);
  });

  it('loads ioredis when redis.url is set, and no PostgreSQL client', async () => {
    const redis: TestRedis | undefined = await startTestRedis();
    if (!redis) return reportMissingRedis('boot-lazy-loading');
    try {
      const gateway = await boot({ env: { OPENCLAW_REDIS_URL: redis.url } });
      const loaded = gateway.packages();
      expect(loaded.has('ioredis')).toBe(true);
      expect(loaded.has('pg')).toBe(false);
      await gateway.stop();
      running.splice(running.indexOf(gateway), 1);
    } finally {
      await redis.stop();
    }
  });

  it('loads pg on PostgreSQL, and neither SQLite nor Redis drivers', async () => {
    const url = await postgresUrl();
    if (!url) return reportMissingPostgres('boot-lazy-loading');
    const gateway = await boot({ env: { OPENCLAW_DATABASE_URL: url } });
    const loaded = gateway.packages();
    expect(loaded.has('pg')).toBe(true);
    expect(loaded.has('better-sqlite3')).toBe(false);
    expect(loaded.has('ioredis')).toBe(false);
  });

  it('loads the OpenTelemetry SDK and exporter only when an OTLP endpoint is set and the SDK is not disabled', async () => {
    // Nothing listens there: spans would be dropped, boot does not depend on the collector.
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const disabled = await boot({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: 'true' },
    });
    for (const name of TRACING) expect(disabled.packages().has(name), name).toBe(false);
    const traced = await boot({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
    });
    const loaded = traced.packages();
    for (const name of TRACING) expect(loaded.has(name), name).toBe(true);
  });

  it('does not load the static file server when the dashboard is off', async () => {
    const gateway = await boot({ entry: [WITHOUT_DASHBOARD] });
    const loaded = gateway.packages();
    expect(loaded.has('@fastify/static')).toBe(false);
    expect(loaded.has('@nestjs/serve-static')).toBe(false);
  });
});
