import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../support/auth-tokens.js';
import { startCluster, type ClusterInstance, type TestCluster } from '../support/cluster.js';
import { postgresUrl, reportMissingPostgres } from '../support/databases.js';
import { ALL_SCOPES, postRpc } from '../support/gateway.js';
import { FakeOpenAiServer, streamChunks, textChunks } from '../support/openai-compatible-server.js';

const pg = await postgresUrl();
if (!pg) reportMissingPostgres('token usage across instances');

interface Reply {
  result?: any;
  error?: { code: number; message: string; data?: any };
}

// Each answer of the fake provider costs 11 + 1 = 12 tokens.
const TURN_TOKENS = 12;
const SESSION_BUDGET = 150;

describe.skipIf(!pg)('token usage and budgets across two gateway processes (PostgreSQL)', () => {
  let cluster: TestCluster;
  let provider: FakeOpenAiServer;
  let auth: Record<string, string>;
  let id = 0;

  const call = async (gw: ClusterInstance, method: string, params: unknown): Promise<Reply> =>
    (await postRpc(gw.baseUrl, { jsonrpc: '2.0', id: ++id, method, params }, { headers: auth }))
      .body as Reply;
  const ok = async (gw: ClusterInstance, method: string, params: unknown): Promise<any> => {
    const reply = await call(gw, method, params);
    if (reply.error) throw new Error(`${method}: ${JSON.stringify(reply.error)}`);
    return reply.result;
  };
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
        agents: [
          {
            id: 'llm',
            provider: 'openai-compatible',
            model: 'test-model',
            baseUrl: provider.baseUrl,
            maxRetries: 0,
            budgets: { session: { tokens: SESSION_BUDGET } },
          },
        ],
        rateLimit: {
          client: { limit: 100_000, ttl: '60s' },
          session: { limit: 100_000, ttl: '60s' },
        },
      },
    });
    auth = { authorization: `Bearer ${await signToken({ sub: 'alice', scope: ALL_SCOPES })}` };
  });

  afterAll(async () => {
    await cluster?.close();
    await provider?.close();
  });

  it('counts every turn once, whichever instance ran it, and both refuse at the budget', async () => {
    const [a, b] = cluster.instances;
    const { sessionKey } = await ok(a, 'session.create', { agentId: 'llm' });
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call(i % 2 ? a : b, 'session.message', { sessionKey, content: `m${i}` }),
      ),
    );
    const answered = replies.filter((r) => r.result).length;
    for (const reply of replies) if (reply.error) expect(reply.error.code).toBe(-32009);
    expect(answered).toBeGreaterThan(0);

    const expected = answered * TURN_TOKENS;
    expect(await loggedTokens(a, sessionKey)).toBe(expected);
    for (const gw of [a, b]) {
      expect((await ok(gw, 'agent.status', { agentId: 'llm' })).usage.totalTokens).toBe(expected);
    }

    // Turn by turn, alternating instances, until one refuses: exactly when the budget is spent.
    let refusal: Reply | undefined;
    for (let i = 0; i < 20 && !refusal; i++) {
      const reply = await call(i % 2 ? a : b, 'session.message', { sessionKey, content: `n${i}` });
      if (reply.error) refusal = reply;
    }
    const used = await loggedTokens(b, sessionKey);
    expect(refusal?.error).toMatchObject({
      code: -32012,
      data: { budget: 'session', used, limit: SESSION_BUDGET },
    });
    expect(used).toBeGreaterThanOrEqual(SESSION_BUDGET);
    expect(used - TURN_TOKENS).toBeLessThan(SESSION_BUDGET);
    // The other instance refuses too, from the same table.
    const other = await call(a, 'session.message', { sessionKey, content: 'again' });
    expect(other.error).toMatchObject({ code: -32012, data: { used } });
  });
});
