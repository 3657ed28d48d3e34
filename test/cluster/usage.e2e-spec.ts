import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../support/auth-tokens.js';
import {
  HIGH_RATE_LIMITS,
  instanceRpc,
  startCluster,
  type ClusterInstance,
  type TestCluster,
} from '../support/cluster.js';
import { postgresUrl, reportMissingPostgres } from '../support/databases.js';
import { ALL_SCOPES } from '../support/gateway.js';
import { FakeOpenAiServer, streamChunks, textChunks } from '../support/openai-compatible-server.js';

const pg = await postgresUrl();
if (!pg) reportMissingPostgres('token usage across instances');

// Each answer of the fake provider costs 11 + 1 = 12 tokens.
const TURN_TOKENS = 12;
const SESSION_BUDGET = 150;

describe.skipIf(!pg)('token usage and budgets across two gateway processes (PostgreSQL)', () => {
  let cluster: TestCluster;
  let provider: FakeOpenAiServer;
  let auth: Record<string, string>;
  const { call, ok } = instanceRpc(() => auth);
  const loggedTokens = async (gw: ClusterInstance, sessionKey: string): Promise<number> => {
    const events = (await ok(gw, 'session.history', { sessionKey, limit: 1000 })) as any[];
    return events
      .filter((e) => e.type === 'message.agent')
      .reduce((sum, e) => sum + (e.data.usage?.totalTokens ?? 0), 0);
  };

  beforeAll(async () => {
    provider = await FakeOpenAiServer.start();
    provider.fallback = (_request, res) => streamChunks(res, textChunks('ok'), 5);
    cluster = await startCluster(2, {
      databaseUrl: pg!,
      config: {
        agents: [provider.agent({ budgets: { session: { tokens: SESSION_BUDGET } } })],
        rateLimit: HIGH_RATE_LIMITS,
      },
    });
    auth = { authorization: `Bearer ${await signToken({ sub: 'alice', scope: ALL_SCOPES })}` };
  });

  afterAll(async () => {
    await cluster?.close();
    await provider?.close();
  });

  it('counts every turn once, whichever instance ran it, and refuses exactly at the budget', async () => {
    const [a, b] = cluster.instances;
    const { sessionKey } = await ok(a, 'session.create', { agentId: 'llm' });
    // 16 messages at once, half on each instance: turns run one at a time under the session's
    // lease, each checked against every earlier turn's usage, wherever it ran.
    const replies = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        call(i % 2 ? a : b, 'session.message', { sessionKey, content: `m${i}` }),
      ),
    );
    const answered = replies.filter((r) => r.result).length;
    const refused = replies.filter((r) => r.error?.code === -32012);
    expect(answered + refused.length).toBe(16);
    // 0, 12, … 144 are under 150: exactly 13 turns run, the 14th finds 156 used.
    const runs = Math.ceil(SESSION_BUDGET / TURN_TOKENS);
    expect(answered).toBe(runs);
    const used = runs * TURN_TOKENS;
    for (const reply of refused) {
      expect(reply.error?.data).toEqual({ budget: 'session', used, limit: SESSION_BUDGET });
    }
    expect(await loggedTokens(a, sessionKey)).toBe(used);
    for (const gw of [a, b]) {
      expect((await ok(gw, 'agent.status', { agentId: 'llm' })).usage.totalTokens).toBe(used);
      const again = await call(gw, 'session.message', { sessionKey, content: 'again' });
      expect(again.error).toMatchObject({ code: -32012, data: { used } });
    }
  });
});
