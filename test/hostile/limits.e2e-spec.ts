import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { Caller } from '../../src/core/identity/caller.js';
import type { GatewayConfigInput } from '../../src/core/config/config.loader.js';
import { RateLimitStatsService } from '../../src/core/rate-limit/rate-limit-stats.service.js';
import { WsConnectionLimiter } from '../../src/core/rate-limit/ws-connection.limiter.js';
import type { GatewayModuleOptions } from '../../src/gateway-module.options.js';
import { signToken } from '../support/auth-tokens.js';
import { CalculatorModule } from '../support/calculator.rpc.js';
import { postRpc, startGateway, WsTestClient, type TestGateway } from '../support/gateway.js';

// The attacks a client can make on the gateway's limits, budgets and caps, and what it survives.
// Time bounds are generous for a loaded CI machine and far below what the unfixed gateway took.

const USER_SCOPES = 'sessions:read sessions:write agents:read tools:read tools:execute';
const ONE_MB = 1024 * 1024;

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

async function boot(
  config: GatewayConfigInput = {},
  options: Omit<GatewayModuleOptions, 'config'> = {},
): Promise<TestGateway> {
  gateway = await startGateway(config, { imports: [CalculatorModule], ...options });
  return gateway;
}

const bearer = async (sub: string, scope = USER_SCOPES) => ({
  authorization: `Bearer ${await signToken({ sub, scope })}`,
});

const call = (method: string, params?: unknown, id: number | string = 1) => ({
  jsonrpc: '2.0' as const,
  method,
  params,
  id,
});

function heapUsed(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

/** Runs `count` requests `concurrency` at a time; resolves with their results in order. */
async function flood<T>(count: number, concurrency: number, send: (i: number) => Promise<T>) {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await send(i);
      }
    }),
  );
  return results;
}

/** Tries a WebSocket upgrade: the HTTP status it was refused with, or 101 (closed again). */
function upgrade(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, ['openclaw.v1'], { headers });
    socket.once('open', () => {
      socket.close();
      resolve({ status: 101 });
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] });
      response.resume();
      socket.terminate();
    });
    socket.once('error', (err) => reject(err));
  });
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

describe('path spellings on POST /auth/token', () => {
  it('meets one per-IP limit however the path is spelled, and GET / stays fast meanwhile', async () => {
    const { baseUrl } = await boot({ rateLimit: { client: { limit: 20, ttl: '60s' } } });
    const spellings = [
      '/auth/token',
      '/auth/%74oken',
      '/auth/token?x',
      '/auth/t%6Fken?y=1',
      '/auth/%74%6f%6b%65%6e',
    ];
    const pages: Array<{ value: number; ms: number }> = [];
    const replies = await flood(200, 20, async (i) => {
      // The dashboard, asked for now and then while the flood runs.
      if (i % 40 === 20) pages.push(await timed(async () => (await fetch(`${baseUrl}/`)).status));
      const response = await fetch(baseUrl + spellings[i % spellings.length], {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // A client id per request: this is about the per-IP limit, not the per-client one.
        body: JSON.stringify({
          grant_type: 'client_credentials',
          client_id: `nobody${i}`,
          client_secret: 'guess',
        }),
      });
      await response.arrayBuffer();
      return { status: response.status, retryAfter: response.headers.get('retry-after') };
    });

    // Every spelling reached the token endpoint (none is a 404), and all of them shared one
    // budget of 20: the unfixed guard matched the raw URL and let the 120 encoded ones through.
    expect(replies.filter((r) => r.status === 404)).toEqual([]);
    expect(replies.filter((r) => r.status !== 429)).toHaveLength(20);
    for (const refused of replies.filter((r) => r.status === 429)) {
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    }
    expect(pages.map((page) => page.value)).toEqual([200, 200, 200, 200, 200]);
    expect(Math.max(...pages.map((page) => page.ms))).toBeLessThan(2_000);
  });
});

describe('bad-token floods', () => {
  it('slows a bad-token flood on /rpc with 429 while a good token from the same IP is served', async () => {
    const { baseUrl, auth } = await boot({
      rateLimit: { authFailures: { limit: 30, ttl: '60s' } },
    });
    const before = heapUsed();
    const forged = { authorization: `Bearer ${'x'.repeat(40)}.${'y'.repeat(40)}.z` };
    const goodLatencies: number[] = [];
    const replies = await flood(300, 20, async (i) => {
      if (i % 25 === 0) {
        // A legitimate client behind the same address, in the middle of the flood.
        const good = await timed(() => postRpc(baseUrl, call('private.thing'), { headers: auth }));
        expect(good.value.status).toBe(200);
        expect(good.value.body.result).toBe('ok');
        goodLatencies.push(good.ms);
      }
      const reply = await postRpc(baseUrl, call('private.thing', undefined, i), {
        headers: forged,
      });
      return { status: reply.status, code: reply.body?.error?.code, headers: reply.headers };
    });

    // Only failures are counted: 30 answered 401, every later failure 429 with Retry-After.
    expect(replies.filter((r) => r.status === 401)).toHaveLength(30);
    const refused = replies.filter((r) => r.status === 429);
    expect(refused).toHaveLength(270);
    for (const reply of refused) {
      expect(reply.code).toBe(-32005);
      expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(goodLatencies).toHaveLength(12);
    expect(Math.max(...goodLatencies)).toBeLessThan(1_000);
    // The budget is one counter per address: the flood leaves no per-request state behind.
    expect(heapUsed() - before).toBeLessThan(20 * ONE_MB);
    expect(gateway!.app.get(RateLimitStatsService).snapshot().rejections).toMatchObject({
      'auth-failures': 270,
    });
  });

  it('slows bad-token WebSocket upgrades without spending the connection budget of good ones', async () => {
    const { wsUrl, auth } = await boot(
      { rateLimit: { authFailures: { limit: 10, ttl: '60s' } } },
      { rateLimit: { wsConnections: { limit: 5, ttl: 60_000 } } },
    );
    const forged = { authorization: 'Bearer forged.token.value' };
    const refused = await flood(40, 8, () => upgrade(wsUrl, forged));
    expect(refused.filter((r) => r.status === 401)).toHaveLength(10);
    expect(refused.filter((r) => r.status === 429)).toHaveLength(30);
    for (const r of refused.filter((r) => r.status === 429)) {
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
    }
    // Forty failed upgrades counted nothing against the 5 new connections a minute of this IP.
    const good = await timed(async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await upgrade(wsUrl, auth)).status);
      return statuses;
    });
    expect(good.value).toEqual([101, 101, 101, 101, 101]);
    expect(good.ms).toBeLessThan(2_000);
    expect((await upgrade(wsUrl, auth)).status).toBe(429);
  });
});

describe('cross-tenant session keys', () => {
  it('does not let another subject spend the budget of a session it does not own', async () => {
    const { baseUrl } = await boot({
      rateLimit: { client: { limit: 1000, ttl: '60s' }, session: { limit: 30, ttl: '60s' } },
    });
    const alice = await bearer('alice');
    const bob = await bearer('bob');
    const rpc = async (headers: Record<string, string>, method: string, params: unknown) =>
      (await postRpc(baseUrl, call(method, params), { headers })).body;
    const { sessionKey } = (await rpc(alice, 'session.create', {})).result;

    for (let i = 0; i < 40; i++) {
      const reply = await rpc(bob, 'session.message', { sessionKey, content: `spam ${i}` });
      // -32004 as if the session did not exist, then Bob's own limit: never a result.
      expect([-32004, -32005]).toContain(reply.error.code);
    }
    for (let i = 1; i <= 30; i++) {
      const reply = await rpc(alice, 'session.message', { sessionKey, content: `m${i}` });
      expect(reply.error).toBeUndefined();
    }
    const history = (await rpc(alice, 'session.history', { sessionKey, limit: 1000 })).result;
    expect(history.filter((e: { type: string }) => e.type === 'message.user')).toHaveLength(30);
  });
});

describe('oversize session keys', () => {
  it('keeps a bounded key in the limit store for a huge sessionKey, counted before validation', async () => {
    const { baseUrl, auth } = await boot({ rateLimit: { session: { limit: 1000, ttl: '60s' } } });
    const before = heapUsed();
    for (let i = 0; i < 80; i++) {
      // 256 KB of key each, all different: unhashed, the store would hold 20 MB for a minute.
      const sessionKey = `${i}`.padEnd(256 * 1024, 'k');
      const reply = await postRpc(baseUrl, call('session.message', { sessionKey, content: 'x' }), {
        headers: auth,
      });
      expect(reply.body.error.code).not.toBe(-32005);
    }
    expect(heapUsed() - before).toBeLessThan(8 * ONE_MB);
  });
});

describe('WebSocket connection caps', () => {
  it('refuses a subject its sockets past the cap with 429, and gives the places back on close', async () => {
    const { wsUrl } = await boot({ ws: { maxConnectionsPerSubject: 4, maxConnectionsPerIp: 6 } });
    const limiter = gateway!.app.get(WsConnectionLimiter);
    const alice = await bearer('alice');
    const bob = await bearer('bob');

    const sockets = await Promise.all(
      Array.from({ length: 4 }, () => WsTestClient.connect(wsUrl, { headers: alice })),
    );
    const over = await upgrade(wsUrl, alice);
    expect(over.status).toBe(429);
    // One IP (loopback) holds 4 of Alice's and 2 of Bob's: the address is full for anyone.
    const bobs = [
      await WsTestClient.connect(wsUrl, { headers: bob }),
      await WsTestClient.connect(wsUrl, { headers: bob }),
    ];
    expect((await upgrade(wsUrl, bob)).status).toBe(429);
    expect(limiter.openCount({ subject: 'alice' })).toBe(4);
    expect(limiter.openCount({ ip: '127.0.0.1' })).toBe(6);

    sockets[0].close();
    await sockets[0].closed;
    await expect.poll(() => limiter.openCount({ subject: 'alice' })).toBe(3);
    const again = await WsTestClient.connect(wsUrl, { headers: alice });
    expect((await again.call('rpc.discover', {})).result).toBeDefined();

    for (const client of [...sockets.slice(1), again, ...bobs]) client.close();
    // Refused and closed upgrades leave nothing counted.
    await expect.poll(() => limiter.openCount({ ip: '127.0.0.1' })).toBe(0);
    expect(limiter.openCount({ subject: 'bob' })).toBe(0);
    expect(gateway!.app.get(RateLimitStatsService).snapshot().rejections).toMatchObject({
      'ws-open': 2,
    });
  });

  it('drops an upgrade whose verification hangs after ws.handshakeTimeout', async () => {
    let hung = 0;
    const { wsUrl, auth } = await boot(
      { ws: { handshakeTimeout: 300 } },
      {
        auth: {
          // A host authenticator that never answers (a stuck session store, say).
          authenticate: (request): Promise<Caller | undefined> | undefined => {
            if (request.headers['x-hang'] === undefined) return undefined;
            hung++;
            return new Promise<never>(() => undefined);
          },
        },
      },
    );
    const stuck = await timed(() => upgrade(wsUrl, { ...auth, 'x-hang': '1' }));
    expect(hung).toBe(1);
    expect(stuck.value.status).toBe(503);
    expect(stuck.ms).toBeGreaterThanOrEqual(250);
    expect(stuck.ms).toBeLessThan(2_000);
    expect(gateway!.app.get(WsConnectionLimiter).openCount({ ip: '127.0.0.1' })).toBe(0);
    // Other upgrades are not held behind it.
    expect((await upgrade(wsUrl, auth)).status).toBe(101);
  });
});

describe('/status and /metrics', () => {
  it('refuses a token without admin or metrics:read with 403', async () => {
    const { baseUrl, auth } = await boot();
    const user = await bearer('alice');
    const monitor = await bearer('prometheus', 'metrics:read');
    for (const path of ['/status', '/metrics']) {
      const denied = await fetch(baseUrl + path, { headers: user });
      expect(denied.status).toBe(403);
      expect(await denied.json()).toMatchObject({ requiredScope: 'metrics:read' });
      expect((await fetch(baseUrl + path, { headers: monitor })).status).toBe(200);
      expect((await fetch(baseUrl + path, { headers: auth })).status).toBe(200);
    }
  });
});
