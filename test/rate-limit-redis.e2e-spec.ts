import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../src/core/config/config.loader.js';
import { RateLimitStatsService } from '../src/core/rate-limit/rate-limit-stats.service.js';
import { CalculatorModule } from './support/calculator.rpc.js';
import { postRpc, startGateway, type TestGateway } from './support/gateway.js';
import { reportMissingRedis, startTestRedis, type TestRedis } from './support/redis.js';

const redis = await startTestRedis();
if (!redis) reportMissingRedis('rate-limit-redis.e2e-spec');

const call = (id: number) => ({ jsonrpc: '2.0', method: 'get_data', id });
/** A method that needs a token (scope admin). */
const privateCall = (id: number) => ({ jsonrpc: '2.0', method: 'private.thing', id });

describe.skipIf(!redis)('rate limits shared through Redis', () => {
  const server = redis as TestRedis;
  let admin: Redis;
  const gateways: TestGateway[] = [];

  const boot = async (config: GatewayConfigInput = {}): Promise<TestGateway> => {
    const gateway = await startGateway(
      { redis: { url: server.url }, ...config },
      { imports: [CalculatorModule], defaultLimits: true },
    );
    gateways.push(gateway);
    return gateway;
  };

  beforeAll(() => {
    admin = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  });
  beforeEach(async () => {
    await admin.flushall();
  });
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
  });
  afterAll(async () => {
    admin.disconnect();
    if (server.controllable) await server.stop();
  });

  it('gives two instances one exact limit: 60 across both, not 120', async () => {
    const [a, b] = await Promise.all([boot(), boot()]);
    // Interleaved and concurrent, so each instance alone never sees 60.
    const replies = await Promise.all(
      Array.from({ length: 90 }, (_, i) => postRpc(i % 2 ? a.baseUrl : b.baseUrl, call(i))),
    );
    expect(replies.filter((r) => r.status === 200)).toHaveLength(60);
    const refused = replies.filter((r) => r.status === 429);
    expect(refused).toHaveLength(30);
    for (const reply of refused) {
      expect(reply.body.error.code).toBe(-32005);
      expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    const remaining = await postRpc(a.baseUrl, call(1000));
    expect(remaining.status).toBe(429);
    const statsA = a.app.get(RateLimitStatsService).snapshot();
    const statsB = b.app.get(RateLimitStatsService).snapshot();
    expect((statsA.rejections.client ?? 0) + (statsB.rejections.client ?? 0)).toBe(31);
    expect(statsA.store).toEqual({ store: 'redis', available: true });
  });

  it('gives two instances one budget of failed authentications per IP, and still serves good tokens', async () => {
    const authFailures = { limit: 10, ttl: '60s' };
    const [a, b] = await Promise.all([
      boot({ rateLimit: { authFailures } }),
      boot({ rateLimit: { authFailures } }),
    ]);
    const forged = { headers: { authorization: 'Bearer not-a-token' } };
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      statuses.push((await postRpc(i % 2 ? a.baseUrl : b.baseUrl, privateCall(i), forged)).status);
    }
    // Ten failures in all, whichever instance saw them; then 429 on both.
    expect(statuses).toEqual([...Array<number>(10).fill(401), ...Array<number>(4).fill(429)]);
    for (const gateway of [a, b]) {
      expect(
        (await postRpc(gateway.baseUrl, privateCall(99), { headers: gateway.auth })).status,
      ).toBe(200);
    }
  });

  // It runs with OPENCLAW_TEST_REDIS_URL too: that server is reached through a relay we can cut.
  it('fails closed while Redis is down, shows it in the stats, and recovers', async () => {
    // A budget of its own: the previous test spent the shared 60 for this IP in this window.
    const client = { limit: 1000, ttl: '60s' };
    const closed = await boot({ rateLimit: { client } });
    const open = await boot({ rateLimit: { client, onStoreFailure: 'open' } });
    expect((await postRpc(closed.baseUrl, call(1))).status).toBe(200);

    await server.stop();
    const refused = await postRpc(closed.baseUrl, call(2));
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({
      code: -32005,
      data: { reason: 'store_unavailable', retryAfterMs: 1000 },
    });
    expect(refused.headers.get('retry-after')).toBe('1');
    // A limited plain HTTP route is refused the HTTP way too: 429 with Retry-After, not a 500.
    const token = await fetch(`${closed.baseUrl}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=nobody&client_secret=wrong',
    });
    expect(token.status).toBe(429);
    expect(token.headers.get('retry-after')).toBe('1');
    const stats = closed.app.get(RateLimitStatsService).snapshot();
    expect(stats.store).toMatchObject({ store: 'redis', available: false });
    expect(stats.storeFailures).toBeGreaterThanOrEqual(1);
    // The other instance is configured to fail open: calls pass, unlimited.
    expect((await postRpc(open.baseUrl, call(3))).status).toBe(200);

    await server.start();
    await expect
      .poll(async () => (await postRpc(closed.baseUrl, call(4))).status, { timeout: 10_000 })
      .toBe(200);
    expect(closed.app.get(RateLimitStatsService).snapshot().store.available).toBe(true);
  });
});
