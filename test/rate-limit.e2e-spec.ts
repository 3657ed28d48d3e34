import { Injectable, Module } from '@nestjs/common';
import { IsString, MinLength } from 'class-validator';
import { afterEach, describe, expect, it } from 'vitest';
import { Public } from '../src/core/identity/public.decorator.js';
import { RateLimitStatsService } from '../src/core/rate-limit/rate-limit-stats.service.js';
import { SessionRateLimited } from '../src/core/rate-limit/session-rate-limited.decorator.js';
import type { GatewayConfigInput } from '../src/core/config/config.loader.js';
import type { GatewayModuleOptions } from '../src/gateway-module.options.js';
import { RpcMethod } from '../src/core/rpc/rpc-method.decorator.js';
import { signToken } from './support/auth-tokens.js';
import { CalculatorModule, CalculatorRpc } from './support/calculator.rpc.js';
import { postRpc, startGateway, WsTestClient, type TestGateway } from './support/gateway.js';

class ChatPostParams {
  @IsString()
  @MinLength(1)
  sessionKey: string;

  @IsString()
  content: string;
}

/** A stand-in for session.message: what it appends is what ran. */
@Injectable()
class ChatRpc {
  readonly log: string[] = [];

  @Public()
  @SessionRateLimited()
  @RpcMethod('chat.post', { params: ChatPostParams })
  post(params: ChatPostParams): { ok: true } {
    this.log.push(`${params.sessionKey}:${params.content}`);
    return { ok: true };
  }
}

@Module({ providers: [ChatRpc] })
class ChatModule {}

const call = (method: string, params?: unknown, id: number | string = 1) => ({
  jsonrpc: '2.0' as const,
  method,
  params,
  id,
});

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

async function boot(
  config: GatewayConfigInput = {},
  imports: NonNullable<GatewayModuleOptions['imports']> = [],
  rateLimit?: GatewayModuleOptions['rateLimit'],
): Promise<TestGateway> {
  gateway = await startGateway(config, {
    imports: [...imports, CalculatorModule],
    rateLimit,
    defaultLimits: true,
  });
  return gateway;
}

const limits = (client: number, ttl = 60_000, session = 30): GatewayConfigInput => ({
  rateLimit: { client: { limit: client, ttl }, session: { limit: session, ttl: 60_000 } },
});

describe('rate limits over HTTP', () => {
  it('passes 60 calls with the default limit and refuses the 61st with 429, Retry-After and -32005', async () => {
    const { baseUrl } = await boot();
    for (let i = 1; i <= 60; i++) {
      const reply = await postRpc(baseUrl, call('get_data', undefined, i));
      expect(reply.status).toBe(200);
      expect(reply.body.result).toEqual(['hello', 5]);
      expect(reply.headers.get('x-ratelimit-limit')).toBe('60');
      expect(reply.headers.get('x-ratelimit-remaining')).toBe(String(60 - i));
      expect(reply.headers.get('ratelimit-policy')).toBe('"client";q=60;w=60');
      expect(reply.headers.get('ratelimit')).toMatch(new RegExp(`^"client";r=${60 - i};t=\\d+$`));
    }
    const refused = await postRpc(baseUrl, call('get_data', undefined, 61));
    expect(refused.status).toBe(429);
    expect(refused.body.id).toBe(61);
    expect(refused.body.error.code).toBe(-32005);
    const { retryAfterMs } = refused.body.error.data;
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(Number(refused.headers.get('retry-after'))).toBe(Math.ceil(retryAfterMs / 1000));
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(refused.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
    expect(refused.headers.get('ratelimit')).toMatch(/^"client";r=0;t=\d+$/);
    expect(gateway!.app.get(RateLimitStatsService).snapshot().rejections).toEqual({ client: 1 });
  });

  it('lets calls through again once the window has passed', async () => {
    const { baseUrl } = await boot(limits(60, 1500));
    for (let i = 0; i < 60; i++) {
      expect((await postRpc(baseUrl, call('get_data'))).status).toBe(200);
    }
    const refused = await postRpc(baseUrl, call('get_data'));
    expect(refused.status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, refused.body.error.data.retryAfterMs + 20));
    const again = await postRpc(baseUrl, call('get_data'));
    expect(again.status).toBe(200);
    expect(again.headers.get('x-ratelimit-remaining')).toBe('59');
  });

  it('counts two clients behind a trusted proxy independently', async () => {
    const { baseUrl } = await boot({ ...limits(3), gateway: { trustedProxies: ['127.0.0.0/8'] } });
    const as = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
    for (let i = 0; i < 3; i++) {
      expect((await postRpc(baseUrl, call('get_data'), as('198.51.100.1'))).status).toBe(200);
    }
    expect((await postRpc(baseUrl, call('get_data'), as('198.51.100.1'))).status).toBe(429);
    expect((await postRpc(baseUrl, call('get_data'), as('198.51.100.2'))).status).toBe(200);
  });

  it('ignores a spoofed X-Forwarded-For when the peer is not a trusted proxy', async () => {
    const { baseUrl } = await boot(limits(3));
    for (let i = 0; i < 3; i++) {
      const spoof = { headers: { 'x-forwarded-for': `203.0.113.${i}` } };
      expect((await postRpc(baseUrl, call('get_data'), spoof)).status).toBe(200);
    }
    const spoof = { headers: { 'x-forwarded-for': '203.0.113.99' } };
    expect((await postRpc(baseUrl, call('get_data'), spoof)).status).toBe(429);
  });

  it('counts two token subjects independently', async () => {
    const { baseUrl } = await boot(limits(2));
    const bearer = async (sub: string) => ({
      headers: { authorization: `Bearer ${await signToken({ sub, scope: 'admin' })}` },
    });
    const alice = await bearer('alice');
    const bob = await bearer('bob');
    for (let i = 0; i < 2; i++) {
      expect((await postRpc(baseUrl, call('private.thing'), alice)).body.result).toBe('ok');
    }
    expect((await postRpc(baseUrl, call('private.thing'), alice)).body.error.code).toBe(-32005);
    expect((await postRpc(baseUrl, call('private.thing'), bob)).body.result).toBe('ok');
  });

  it('runs 30 calls of a batch of 40 when 30 are left and refuses 10 with -32005', async () => {
    const { baseUrl } = await boot(limits(30));
    const batch = Array.from({ length: 40 }, (_, i) => call('sum', { values: [i, 1] }, i));
    const reply = await postRpc(baseUrl, batch);
    expect(reply.status).toBe(200);
    expect(reply.body).toHaveLength(40);
    const ok = reply.body.filter((r: any) => 'result' in r);
    const refused = reply.body.filter((r: any) => r.error?.code === -32005);
    expect(ok).toHaveLength(30);
    expect(refused).toHaveLength(10);
    for (const r of ok) expect(r.result).toBe(r.id + 1);
    for (const r of refused) expect(r.error.data.retryAfterMs).toBeGreaterThan(0);
    expect(reply.headers.get('x-ratelimit-remaining')).toBe('0');
  });

  it('counts notifications, and a refused one has no effect', async () => {
    const { baseUrl } = await boot(limits(3));
    const notify = (n: number) => ({
      jsonrpc: '2.0',
      method: 'notify_hello',
      params: { values: [n] },
    });
    const reply = await postRpc(baseUrl, [notify(1), notify(2), notify(3), notify(4)]);
    expect(reply.status).toBe(204);
    // Three ran; the fourth was refused before its handler.
    expect(gateway!.app.get(CalculatorRpc).notifications).toHaveLength(3);
    expect((await postRpc(baseUrl, call('get_data'))).status).toBe(429);
  });

  it('limits messages per session: the 31st is refused and nothing runs for it', async () => {
    const { baseUrl } = await boot(limits(1000), [ChatModule]);
    const post = (sessionKey: string, content: string) =>
      postRpc(baseUrl, call('chat.post', { sessionKey, content }));
    for (let i = 1; i <= 30; i++) expect((await post('s1', `m${i}`)).status).toBe(200);
    const refused = await post('s1', 'm31');
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: -32005, data: { limit: 'session' } });
    expect(refused.headers.get('x-ratelimit-remaining-session')).toBe('0');
    expect(refused.headers.get('ratelimit-policy')).toBe(
      '"client";q=1000;w=60, "session";q=30;w=60',
    );
    expect((await post('s2', 'other')).status).toBe(200);
    const log = gateway!.app.get(ChatRpc).log;
    expect(log.filter((line) => line.startsWith('s1:'))).toHaveLength(30);
    expect(log).not.toContain('s1:m31');
    expect(gateway!.app.get(RateLimitStatsService).snapshot().rejections).toEqual({ session: 1 });
  });
});

describe('the per-session message limit on session.message', () => {
  it('refuses the 31st message to one session and leaves 30 user messages in its log', async () => {
    const { baseUrl, auth } = await boot({
      rateLimit: { client: { limit: 1000, ttl: '60s' }, session: { limit: 30, ttl: '60s' } },
    });
    const rpc = async (method: string, params: unknown) =>
      (await postRpc(baseUrl, call(method, params), { headers: auth })).body;
    const { sessionKey } = (await rpc('session.create', {})).result;
    const other = (await rpc('session.create', {})).result.sessionKey;
    for (let i = 1; i <= 30; i++) {
      expect((await rpc('session.message', { sessionKey, content: `m${i}` })).result).toBeDefined();
    }
    const refused = await rpc('session.message', { sessionKey, content: 'm31' });
    expect(refused.error).toMatchObject({
      code: -32005,
      data: { retryAfterMs: expect.any(Number) },
    });
    // Another session of the same client is not affected.
    expect(
      (await rpc('session.message', { sessionKey: other, content: 'hi' })).result,
    ).toBeDefined();
    const history = (await rpc('session.history', { sessionKey, limit: 1000 })).result;
    expect(history.filter((e: any) => e.type === 'message.user')).toHaveLength(30);
    expect(history.some((e: any) => e.data.content === 'm31')).toBe(false);
  });
});

describe('rate limits over WebSocket', () => {
  it('refuses frames over the limit with -32005 and closes with 1008 after repeated violations', async () => {
    const { wsUrl, auth } = await boot(limits(5));
    const ws = await WsTestClient.connect(wsUrl, { headers: auth });
    for (let i = 0; i < 5; i++)
      expect((await ws.call('get_data', undefined, i)).result).toBeDefined();
    const refused = await ws.call('get_data', undefined, 'over');
    expect(refused.error.code).toBe(-32005);
    expect(refused.error.data.retryAfterMs).toBeGreaterThan(0);
    // A batch counts per element: 3 more refusals.
    ws.send([
      call('get_data', undefined, 'b1'),
      call('get_data', undefined, 'b2'),
      call('get_data', undefined, 'b3'),
    ]);
    const batch = await ws.next(Array.isArray);
    expect(batch.map((r: any) => r.error.code)).toEqual([-32005, -32005, -32005]);
    for (let i = 0; i < 6; i++) ws.send(call('get_data', undefined, `late-${i}`));
    expect(await ws.closed).toBe(1008);
    expect(ws.closeReason).toBe('rate limit exceeded');
  });

  it('shares the client limit between HTTP and WS and limits new connections per IP', async () => {
    const { baseUrl, wsUrl, auth } = await boot(limits(3), [], {
      wsConnections: { limit: 2, ttl: 60_000 },
    });
    // One subject, one count, whatever the transport.
    const reply = await postRpc(baseUrl, call('private.thing'), { headers: auth });
    expect(reply.body.result).toBe('ok');
    const first = await WsTestClient.connect(wsUrl, { headers: auth });
    expect((await first.call('private.thing')).result).toBe('ok');
    first.close();
    await first.closed;
    const second = await WsTestClient.connect(wsUrl, { headers: auth });
    expect((await second.call('private.thing')).result).toBe('ok');
    // Reconnecting resets nothing: the count is the client's, not the connection's.
    expect((await second.call('private.thing')).error.code).toBe(-32005);
    await expect(WsTestClient.connect(wsUrl, { headers: auth })).rejects.toThrow(
      /upgrade refused: 429/,
    );
    expect(gateway!.app.get(RateLimitStatsService).snapshot().rejections).toMatchObject({
      client: 1,
      'ws-connect': 1,
    });
    second.close();
  });
});
