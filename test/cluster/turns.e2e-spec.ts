import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../support/auth-tokens.js';
import {
  clusterBackends,
  HIGH_RATE_LIMITS,
  instanceRpc,
  startCluster,
  type ClusterInstance,
  type TestCluster,
} from '../support/cluster.js';
import { postgresUrl } from '../support/databases.js';
import { ALL_SCOPES } from '../support/gateway.js';
import { FakeOpenAiServer, streamChunks, textChunks } from '../support/openai-compatible-server.js';

const { modes } = await clusterBackends('multi-instance turns');

/** A slow answer: twenty words, 40 ms apart, so that a turn is seen running. */
const SLOW_WORDS = Array.from({ length: 20 }, (_, i) => `w${i} `);
const LEASE_TTL_MS = 1000;

describe.each(modes)('turns across two gateway processes on $name', ({ skip, redisUrl }) => {
  describe.skipIf(skip)('', () => {
    let cluster: TestCluster;
    let provider: FakeOpenAiServer;
    let auth: Record<string, string>;
    const { call, ok } = instanceRpc(() => auth);
    const log = async (gw: ClusterInstance, sessionKey: string): Promise<any[]> => {
      const events: any[] = [];
      for (;;) {
        const page = await ok(gw, 'session.history', {
          sessionKey,
          afterSeq: events.at(-1)?.seq ?? 0,
          limit: 1000,
        });
        if (page.length === 0) return events;
        events.push(...page);
      }
    };
    const providerRequests = async (count: number): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (provider.received.length < count) {
        if (Date.now() > deadline) throw new Error(`the provider got ${provider.received.length}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };

    beforeAll(async () => {
      provider = await FakeOpenAiServer.start();
      provider.fallback = (_request, res) => streamChunks(res, textChunks(...SLOW_WORDS), 40);
      cluster = await startCluster(2, {
        databaseUrl: (await postgresUrl())!,
        redisUrl: redisUrl(),
        config: {
          agents: [provider.agent({ id: 'slow' })],
          rateLimit: HIGH_RATE_LIMITS,
          sessions: { leaseTtl: LEASE_TTL_MS },
        },
      });
      auth = { authorization: `Bearer ${await signToken({ sub: 'alice', scope: ALL_SCOPES })}` };
    });

    afterAll(async () => {
      await cluster?.close();
      await provider?.close();
    });

    it('runs 50 parallel messages split across A and B one turn at a time, each answering its own', async () => {
      const [a, b] = cluster.instances;
      const { sessionKey } = await ok(a, 'session.create', {});
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          call(i % 2 ? a : b, 'session.message', { sessionKey, content: `message ${i}` }),
        ),
      );
      const answered = replies.filter((r) => r.result);
      for (const [i, reply] of replies.entries()) {
        if (reply.error) expect(reply.error.code).toBe(-32009);
        else expect(reply.result.content).toBe(`message ${i}`);
      }
      expect(answered.length).toBeGreaterThanOrEqual(16);

      const events = await log(b, sessionKey);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      // Turns never overlap: each message.user is followed by its own answer before the next.
      let open: string | undefined;
      for (const e of events.slice(1)) {
        if (e.type === 'message.user') {
          expect(open).toBeUndefined();
          open = e.data.messageId;
        } else {
          expect(e.data.messageId).toBe(open);
          if (e.type === 'message.agent') open = undefined;
        }
      }
      expect(open).toBeUndefined();
      expect(events.filter((e) => e.type === 'message.agent')).toHaveLength(answered.length);
    });

    it('answers an idempotent retry on B of a turn running on A, with the agent run once', async () => {
      const [a, b] = cluster.instances;
      const { sessionKey } = await ok(a, 'session.create', { agentId: 'slow' });
      const before = provider.received.length;
      const params = { sessionKey, content: 'once only', idempotencyKey: 'retry-1' };
      const first = ok(a, 'session.message', params);
      await providerRequests(before + 1);
      const retried = await ok(b, 'session.message', params);
      expect(retried).toEqual(await first);
      expect(retried.content).toBe(SLOW_WORDS.join(''));
      expect(provider.received.length).toBe(before + 1);
      // And once more after the fact, from either instance.
      expect(await ok(a, 'session.message', params)).toEqual(retried);
    });

    it('lets session.end on B cancel a turn running on A, recording the cancelled answer first', async () => {
      const [a, b] = cluster.instances;
      const { sessionKey } = await ok(a, 'session.create', { agentId: 'slow' });
      const before = provider.received.length;
      const turn = call(a, 'session.message', { sessionKey, content: 'stop me' });
      await providerRequests(before + 1);
      await ok(b, 'session.end', { sessionKey, reason: 'enough' });
      const reply = await turn;
      expect(reply.result?.finishReason ?? reply.error?.code).toBe('cancelled');
      const events = await log(b, sessionKey);
      expect(events.at(-1)).toMatchObject({ type: 'session.ended', data: { reason: 'enough' } });
      expect(events.at(-2)).toMatchObject({
        type: 'message.agent',
        data: { finishReason: 'cancelled' },
      });
    });

    it('goes on through B when A dies mid-turn, recording the interrupted turn, cycle after cycle', async () => {
      const b = cluster.instances[1];
      const { sessionKey } = await ok(b, 'session.create', { agentId: 'slow' });
      for (let cycle = 0; cycle < 3; cycle++) {
        const victim = await cluster.add();
        const acknowledged = await log(b, sessionKey);
        const before = provider.received.length;
        // Its caller sees the connection drop: that is all a client of a dead instance can see.
        const doomed = call(victim, 'session.message', {
          sessionKey,
          content: `doomed ${cycle}`,
        }).catch(() => undefined);
        await providerRequests(before + 1);
        await victim.stop('SIGKILL');
        await doomed;

        const startedAt = Date.now();
        const after = await ok(b, 'session.message', { sessionKey, content: `after ${cycle}` });
        expect(after.content).toBe(SLOW_WORDS.join(''));
        // B waited for the dead instance's lease to lapse, no longer.
        expect(Date.now() - startedAt).toBeLessThan(LEASE_TTL_MS + 5000);

        const events = await log(b, sessionKey);
        expect(events.slice(0, acknowledged.length)).toEqual(acknowledged);
        expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
        const doomedMessage = events.find(
          (e) => e.type === 'message.user' && e.data.content === `doomed ${cycle}`,
        );
        const outcome = events.find(
          (e) =>
            e.data.messageId === doomedMessage.data.messageId &&
            (e.type === 'agent.error' || e.type === 'message.agent'),
        );
        expect(outcome).toMatchObject({
          type: 'agent.error',
          data: { reason: 'interrupted', retryable: true },
        });
      }
    });
  });
});
