import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../support/auth-tokens.js';
import {
  clusterBackends,
  HIGH_RATE_LIMITS,
  instanceRpc,
  startCluster,
  type TestCluster,
} from '../support/cluster.js';
import { postgresUrl } from '../support/databases.js';
import { ALL_SCOPES, WsTestClient } from '../support/gateway.js';
import { FakeOpenAiServer, streamChunks, textChunks } from '../support/openai-compatible-server.js';

const { modes } = await clusterBackends('multi-instance cancel');

/** A slow answer: a hundred words 50 ms apart, far longer than any test waits. */
const SLOW_WORDS = Array.from({ length: 100 }, (_, i) => `w${i} `);

describe.each(modes)(
  'session.cancel across two gateway processes on $name',
  ({ skip, redisUrl }) => {
    describe.skipIf(skip)('', () => {
      let cluster: TestCluster;
      let provider: FakeOpenAiServer;
      let auth: Record<string, string>;
      const { ok } = instanceRpc(() => auth);

      beforeAll(async () => {
        provider = await FakeOpenAiServer.start();
        provider.fallback = (_request, res) => streamChunks(res, textChunks(...SLOW_WORDS), 50);
        cluster = await startCluster(2, {
          databaseUrl: (await postgresUrl())!,
          redisUrl: redisUrl(),
          config: {
            agents: [provider.agent({ id: 'slow' })],
            rateLimit: HIGH_RATE_LIMITS,
          },
        });
        auth = { authorization: `Bearer ${await signToken({ sub: 'alice', scope: ALL_SCOPES })}` };
      });

      afterAll(async () => {
        await cluster?.close();
        await provider?.close();
      });

      it('session.cancel on B stops the turn running on A; the next message runs at once', async () => {
        const [a, b] = cluster.instances;
        const client = await WsTestClient.connect(a.wsUrl, { headers: auth });
        try {
          const sessionKey = (await client.call('session.create', { agentId: 'slow' })).result
            .sessionKey as string;
          client.send({
            jsonrpc: '2.0',
            id: 'turn',
            method: 'session.message',
            params: { sessionKey, content: 'talk slowly' },
          });
          // Two words streamed on A: its turn runs there.
          await client.next((f) => f.method === 'session.delta' && f.params.index === 1);
          const started = Date.now();
          expect(await ok(b, 'session.cancel', { sessionKey })).toEqual({ cancelled: true });
          const reply = await client.next((f) => f.id === 'turn');
          expect(reply.result.finishReason).toBe('cancelled');
          expect(reply.result.content.length).toBeGreaterThan(0);
          expect(SLOW_WORDS.join('').startsWith(reply.result.content)).toBe(true);
          // Far sooner than the five seconds the whole answer takes.
          expect(Date.now() - started).toBeLessThan(3000);

          const events = await ok(b, 'session.history', { sessionKey, limit: 1000 });
          expect(events.at(-1)).toMatchObject({
            type: 'message.agent',
            data: { finishReason: 'cancelled', content: reply.result.content },
          });

          // The lease is free: B takes the next message without waiting for A's.
          provider.next((_request, res) => streamChunks(res, textChunks('next')));
          const next = await ok(b, 'session.message', { sessionKey, content: 'next' });
          expect(next).toMatchObject({ content: 'next', finishReason: 'stop' });
          expect(await ok(a, 'session.cancel', { sessionKey })).toEqual({ cancelled: false });
        } finally {
          client.close();
        }
      });
    });
  },
);
