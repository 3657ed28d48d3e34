import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../support/auth-tokens.js';
import {
  clusterBackends,
  startCluster,
  type ClusterInstance,
  type TestCluster,
} from '../support/cluster.js';
import { postgresUrl } from '../support/databases.js';
import { ALL_SCOPES, postRpc, WsTestClient } from '../support/gateway.js';
import { FakeOpenAiServer, streamChunks, textChunks } from '../support/openai-compatible-server.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';

const { pg, redis, modes } = await clusterBackends('multi-instance resilience');

interface Reply {
  result?: any;
  error?: { code: number; message: string; data?: any };
}

let id = 0;
async function call(
  gw: ClusterInstance,
  token: string,
  method: string,
  params: unknown,
): Promise<{ status: number; body: Reply }> {
  const reply = await postRpc(
    gw.baseUrl,
    { jsonrpc: '2.0', id: ++id, method, params },
    { headers: { authorization: `Bearer ${token}` } },
  );
  return { status: reply.status, body: reply.body as Reply };
}

/** Reads frames until `seq` arrived; returns the seqs of session.event frames, in order. */
async function eventsUntil(
  client: WsTestClient,
  seq: number,
  timeoutMs = 15_000,
): Promise<number[]> {
  const seen: number[] = [];
  while (seen.at(-1) !== seq) {
    const frame = await client.next((f) => f.method === 'session.event', timeoutMs);
    seen.push(frame.params.seq);
  }
  return seen;
}

describe.each(modes)(
  'limits and draining across gateway processes on $name',
  ({ skip, redisUrl }) => {
    describe.skipIf(skip)('', () => {
      let cluster: TestCluster;
      let provider: FakeOpenAiServer;

      beforeAll(async () => {
        provider = await FakeOpenAiServer.start();
        provider.fallback = (_request, res) =>
          streamChunks(res, textChunks(...Array.from({ length: 20 }, (_, i) => `w${i} `)), 50);
        cluster = await startCluster(2, {
          databaseUrl: (await postgresUrl())!,
          redisUrl: redisUrl(),
          config: {
            agents: [
              { id: 'slow', provider: 'openai-compatible', model: 'm', baseUrl: provider.baseUrl },
            ],
          },
        });
      });

      afterAll(async () => {
        await cluster?.close();
        await provider?.close();
      });

      it('holds the per-client limit exactly across A and B: 60 a minute, not 120', async () => {
        const [a, b] = cluster.instances;
        const token = await signToken({ sub: `limited-${Date.now()}`, scope: 'agents:read' });
        const replies = await Promise.all(
          Array.from({ length: 120 }, (_, i) => call(i % 2 ? a : b, token, 'agent.list', {})),
        );
        expect(replies.filter((r) => r.status === 200)).toHaveLength(60);
        for (const refused of replies.filter((r) => r.status !== 200)) {
          expect(refused.status).toBe(429);
          expect(refused.body.error?.code).toBe(-32005);
        }
      });

      it('drains A on SIGTERM: its turn in flight finishes, its WebSocket client resumes on B with no gap and no duplicate', async () => {
        const [a, b] = cluster.instances;
        const token = await signToken({ sub: 'drained', scope: ALL_SCOPES });
        const headers = { authorization: `Bearer ${token}` };
        const { result } = (await call(b, token, 'session.create', { agentId: 'slow' })).body;
        const { sessionKey } = result;
        const client = await WsTestClient.connect(a.wsUrl, { headers });
        await client.call('session.history', { sessionKey });
        const before = provider.received.length;
        const inFlight = call(a, token, 'session.message', { sessionKey, content: 'finish me' });
        while (provider.received.length === before) await new Promise((r) => setTimeout(r, 10));

        // Steady load on A until it is gone: every call either succeeds or is refused in a way a
        // client or a load balancer retries elsewhere (503, or the connection refused/reset).
        const outcomes: string[] = [];
        // Many subjects, so that the per-client limit (60 a minute here) is not what answers.
        const loadTokens = await Promise.all(
          Array.from({ length: 200 }, (_, i) => signToken({ sub: `load-${i}`, scope: ALL_SCOPES })),
        );
        const load = (async () => {
          for (
            let n = 0;
            a.process.child.exitCode === null && a.process.child.signalCode === null;
            n++
          ) {
            try {
              const reply = await call(a, loadTokens[n % loadTokens.length], 'agent.list', {});
              outcomes.push(
                reply.status === 200 && reply.body.result ? 'ok' : `status ${reply.status}`,
              );
            } catch {
              outcomes.push('connection refused');
            }
          }
        })();
        await new Promise((r) => setTimeout(r, 100));
        a.process.child.kill('SIGTERM');

        const turn = await inFlight;
        await load;
        expect(outcomes).toContain('ok');
        expect(
          outcomes.filter((o) => !['ok', 'status 503', 'connection refused'].includes(o)),
        ).toEqual([]);
        expect(turn.status).toBe(200);
        expect(turn.body.result.finishReason).toBe('stop');
        expect(await client.closed).toBe(1001);
        const seenOnA = client.frames
          .filter((f) => f.method === 'session.event')
          .map((f) => f.params.seq as number);

        // The client reconnects to B and resumes from the last seq it saw.
        const resumed = await WsTestClient.connect(b.wsUrl, { headers });
        const afterSeq = seenOnA.at(-1) ?? 1;
        const page = await resumed.call('session.history', { sessionKey, afterSeq });
        const more = await call(b, token, 'session.message', { sessionKey, content: 'after' });
        const live = await eventsUntil(resumed, more.body.result.seq);
        const all = [1, ...seenOnA, ...page.result.map((e: { seq: number }) => e.seq), ...live];
        expect(all).toEqual(all.map((_, i) => i + 1));
        resumed.close();
        await a.stop();
      });
    });
  },
);

describe.skipIf(!pg || !redis?.controllable)('a Redis outage under load', () => {
  let cluster: TestCluster;
  let ownRedis: TestRedis;

  beforeAll(async () => {
    ownRedis = (await startTestRedis())!;
    cluster = await startCluster(2, {
      databaseUrl: (await postgresUrl())!,
      redisUrl: ownRedis.url,
      // Calls go on while the limits cannot be counted, so events are stored during the outage.
      config: { rateLimit: { onStoreFailure: 'open' } },
    });
  });

  afterAll(async () => {
    await cluster?.close();
    await ownRedis?.stop();
  });

  it('crashes nothing, loses no stored event, and heals subscriptions when Redis returns', async () => {
    const [a, b] = cluster.instances;
    const token = await signToken({ sub: 'outage', scope: ALL_SCOPES });
    const { sessionKey } = (await call(b, token, 'session.create', {})).body.result;
    const client = await WsTestClient.connect(a.wsUrl, {
      headers: { authorization: `Bearer ${token}` },
    });
    await client.call('session.history', { sessionKey });
    await call(b, token, 'session.message', { sessionKey, content: 'before the outage' });

    await ownRedis.stop();
    for (let i = 0; i < 5; i++) {
      const reply = await call(b, token, 'session.message', { sessionKey, content: `during ${i}` });
      expect(reply.body.result?.content ?? reply.body.error?.data?.retryable).toBeTruthy();
    }
    await ownRedis.start();
    // Both instances come back by themselves; readiness says when.
    for (const gw of [a, b]) {
      const deadline = Date.now() + 15_000;
      while ((await fetch(`${gw.baseUrl}/health/ready`)).status !== 200) {
        if (Date.now() > deadline) throw new Error(`${gw.id} never ready again`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const last = await call(b, token, 'session.message', { sessionKey, content: 'after' });
    const seen = await eventsUntil(client, last.body.result.seq);
    expect([1, ...seen]).toEqual(Array.from({ length: last.body.result.seq }, (_, i) => i + 1));
    expect(a.process.child.exitCode).toBeNull();
    expect(b.process.child.exitCode).toBeNull();
    client.close();
  });
});
