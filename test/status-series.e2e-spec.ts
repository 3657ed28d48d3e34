import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  emptySeries,
  mergeSeries,
  type HeldSeries,
  type SeriesAnswer,
} from '../dashboard/src/live-series.js';
import { signToken } from './support/auth-tokens.js';
import { CalculatorModule } from './support/calculator.rpc.js';
import { storageEngines } from './support/databases.js';
import {
  postRpc,
  rpcOver,
  startGateway,
  WsTestClient,
  type TestGateway,
} from './support/gateway.js';
import { FakeOpenAiServer, streamChunks, textChunks } from './support/openai-compatible-server.js';

const engines = await storageEngines('status series e2e');

/** What GET /status/series answers. */
type Series = SeriesAnswer;

async function getSeries(gateway: TestGateway, since?: number): Promise<Series> {
  const query = since === undefined ? '' : `?since=${since}`;
  const response = await fetch(`${gateway.baseUrl}/status/series${query}`, {
    headers: gateway.auth,
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Series;
}

/**
 * A poller as the dashboard runs one: asks for the seconds after the last it saw and keeps
 * them, until `done` holds for what it has (or the deadline passes).
 */
class SeriesPoller {
  points: HeldSeries = emptySeries();

  private constructor(private readonly gateway: TestGateway) {}

  /** Starts after the last complete second: what follows is what the test does. */
  static async start(gateway: TestGateway): Promise<SeriesPoller> {
    const poller = new SeriesPoller(gateway);
    poller.points.until = (await getSeries(gateway)).until;
    return poller;
  }

  total(column: 'calls' | 'errors' | 'rejections' | 'tokens'): number {
    return this.points[column].reduce((sum, n) => sum + n, 0);
  }

  async until(done: (poller: SeriesPoller) => boolean, timeoutMs = 8000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const delta = await getSeries(this.gateway, this.points.until);
      expect(delta.t.every((t) => t > this.points.until)).toBe(true);
      this.points = mergeSeries(this.points, delta);
      if (done(this)) return;
      if (Date.now() > deadline) {
        throw new Error(`series never got there: ${JSON.stringify(this.points)}`);
      }
      // Points appear once their second is over: wait a little for the next one.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe.each(engines)('/status/series on $name', ({ url, skip }) => {
  describe.skipIf(skip)('', () => {
    let gateway: TestGateway;
    let provider: FakeOpenAiServer;
    const { ok } = rpcOver(() => gateway);

    beforeAll(async () => {
      provider = await FakeOpenAiServer.start();
      gateway = await startGateway(
        {
          database: { url: await url() },
          agents: [provider.agent()],
        },
        { imports: [CalculatorModule] },
      );
    });
    afterAll(async () => {
      await gateway?.close();
      await provider?.close();
    });

    it('counts calls and errors per second, with p50/p99 latency, on every front', async () => {
      const poller = await SeriesPoller.start(gateway);
      const call = (method: string, params?: unknown) =>
        postRpc(
          gateway.baseUrl,
          { jsonrpc: '2.0', id: 1, method, params },
          { headers: gateway.auth },
        );
      await call('subtract', { minuend: 3, subtrahend: 1 });
      await call('get_data');
      await Promise.all([call('sleep', { ms: 60 }), call('sleep', { ms: 60 })]);
      // Two errors: invalid params, and a handler that throws.
      expect((await call('subtract', { minuend: 'x' })).body.error.code).toBe(-32602);
      expect((await call('explode')).body.error.code).toBe(-32603);
      // An unknown method is no call of any method.
      expect((await call('no.such.method')).body.error.code).toBe(-32601);
      const ws = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
      expect((await ws.call('get_data')).result).toEqual(['hello', 5]);
      ws.close();
      // The OpenAI-compatible front's calls are counted with the others.
      const models = await fetch(`${gateway.baseUrl}/v1/models`, { headers: gateway.auth });
      expect(models.status).toBe(200);

      await poller.until((p) => p.total('calls') >= 8);
      expect(poller.total('calls')).toBe(8);
      expect(poller.total('errors')).toBe(2);
      expect(poller.total('rejections')).toBe(0);
      const p99 = Math.max(...poller.points.p99.map((v) => v ?? 0));
      // The sleeps' latency, to its bucket (60–80 ms) and never above the slowest call.
      expect(p99).toBeGreaterThanOrEqual(60);
      expect(p99).toBeLessThan(1000);
      const p50s = poller.points.p50.filter((v): v is number => v !== null);
      expect(p50s.length).toBeGreaterThan(0);
      expect(Math.min(...p50s)).toBeLessThan(60);
      // A second without calls has no latency.
      poller.points.calls.forEach((calls, i) => {
        if (calls === 0) expect(poller.points.p99[i]).toBeNull();
      });
    });

    it('shows the WebSockets open, second by second', async () => {
      const poller = await SeriesPoller.start(gateway);
      const clients = await Promise.all(
        [1, 2, 3].map(() => WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth })),
      );
      await poller.until((p) => p.points.websockets.includes(3));
      clients[0].close();
      clients[1].close();
      await Promise.all([clients[0].closed, clients[1].closed]);
      await poller.until((p) => p.points.websockets.at(-1) === 1);
      clients[2].close();
      await clients[2].closed;
      await poller.until((p) => p.points.websockets.at(-1) === 0);
    });

    it('sums the model tokens of finished turns per second and per minute', async () => {
      const poller = await SeriesPoller.start(gateway);
      provider.next((_request, res) => streamChunks(res, textChunks('Hel', 'lo')));
      const { sessionKey } = await ok('session.create', { agentId: 'llm' });
      const answer = await ok('session.message', { sessionKey, content: 'hi' });
      expect(answer.content).toBe('Hello');
      // 11 prompt tokens and 2 completion tokens, as the provider reported them.
      await poller.until((p) => p.total('tokens') >= 13);
      expect(poller.total('tokens')).toBe(13);
      expect(poller.points.tokensPerMinute.at(-1)).toBeGreaterThanOrEqual(13);
    });
  });
});

describe('/status/series with a rate limit', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway({ rateLimit: { client: { limit: 2, ttl: 60_000 } } });
  });
  afterAll(() => gateway?.close());

  it('counts rate-limit rejections apart from errors', async () => {
    const poller = await SeriesPoller.start(gateway);
    const auth = {
      authorization: `Bearer ${await signToken({ sub: 'flooder', scope: 'agents:read' })}`,
    };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const reply = await postRpc(
        gateway.baseUrl,
        { jsonrpc: '2.0', id: i, method: 'agent.list', params: {} },
        { headers: auth },
      );
      statuses.push(reply.status);
    }
    expect(statuses).toEqual([200, 200, 429, 429, 429]);
    await poller.until((p) => p.total('calls') >= 5 && p.total('rejections') >= 3);
    expect(poller.total('calls')).toBe(5);
    expect(poller.total('rejections')).toBe(3);
    expect(poller.total('errors')).toBe(0);
  });

  it('is served to admin or metrics:read only, as /status is', async () => {
    const as = async (scope: string) => ({
      authorization: `Bearer ${await signToken({ sub: 'monitor', scope })}`,
    });
    const path = `${gateway.baseUrl}/status/series`;
    expect((await fetch(path, { headers: await as('metrics:read') })).status).toBe(200);
    expect((await fetch(path, { headers: await as('admin') })).status).toBe(200);
    const denied = await fetch(path, {
      headers: await as('sessions:read sessions:write agents:read tools:read tools:execute'),
    });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ statusCode: 403, requiredScope: 'metrics:read' });
    const anonymous = await fetch(path);
    expect(anonymous.status).toBe(401);
    expect(JSON.stringify(await anonymous.json())).not.toContain('calls');
  });

  it('refuses an odd `since` with a clear 400', async () => {
    for (const since of [
      '-1',
      'abc',
      '',
      '1e9',
      'Infinity',
      'NaN',
      '0x10',
      '12abc',
      '1'.repeat(40),
    ]) {
      const response = await fetch(
        `${gateway.baseUrl}/status/series?since=${encodeURIComponent(since)}`,
        { headers: gateway.auth },
      );
      expect(response.status, `since=${since}`).toBe(400);
      expect(await response.json()).toMatchObject({
        statusCode: 400,
        message: 'since must be a unix time in seconds (a non-negative number, given once)',
      });
    }
    const repeated = await fetch(`${gateway.baseUrl}/status/series?since=1&since=2`, {
      headers: gateway.auth,
    });
    expect(repeated.status).toBe(400);
  });

  it('answers at most its window, whatever `since` asks for', async () => {
    const future = await getSeries(gateway, 9_999_999_999_999);
    expect(future.t).toEqual([]);
    expect(future.until).toBeLessThan(Date.now() / 1000);
    const all = await getSeries(gateway, 0);
    expect(all.windowSeconds).toBe(600);
    expect(all.t.length).toBeLessThan(600);
    expect(all.t.length).toBe(all.calls.length);
    const fraction = await fetch(`${gateway.baseUrl}/status/series?since=${all.until - 0.5}`, {
      headers: gateway.auth,
    });
    expect(fraction.status).toBe(200);
    expect(((await fraction.json()) as Series).t.every((t) => t >= all.until)).toBe(true);
  });
});
