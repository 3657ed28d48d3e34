import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageEngines } from './support/databases.js';
import { FakeOpenAiServer, streamChunks, textChunks } from './support/openai-compatible-server.js';
import { rpcOver, startGateway, type TestGateway } from './support/gateway.js';

const engines = await storageEngines('token usage across a restart', 'a SQLite file');

describe.each(engines)('token usage across a restart on $name', ({ url, skip }) => {
  describe.skipIf(skip)('', () => {
    let provider: FakeOpenAiServer;
    let gateway: TestGateway;
    const { rpc, ok } = rpcOver(() => gateway);

    const boot = async (databaseUrl: string) => {
      gateway = await startGateway({
        database: { url: databaseUrl },
        budgets: { subject: { tokens: 40 } },
        agents: [provider.agent()],
      });
    };

    beforeAll(async () => {
      provider = await FakeOpenAiServer.start();
      provider.fallback = (_request, res) => streamChunks(res, textChunks('ok'));
    });

    afterAll(async () => {
      await gateway?.close();
      await provider?.close();
    });

    it('keeps exact totals and a spent budget after the gateway restarts', async () => {
      const databaseUrl = await url();
      await boot(databaseUrl);
      const { sessionKey } = await ok('session.create', { agentId: 'llm' });
      for (let i = 0; i < 3; i++) await ok('session.message', { sessionKey, content: `m${i}` });
      expect((await ok('agent.status', { agentId: 'llm' })).usage.totalTokens).toBe(36);
      await gateway.close();

      await boot(databaseUrl);
      expect((await ok('agent.status', { agentId: 'llm' })).usage).toEqual({
        inputTokens: 33,
        outputTokens: 3,
        totalTokens: 36,
      });
      // 36 < 40: one more turn runs, then the subject's budget is spent.
      await ok('session.message', { sessionKey, content: 'm3' });
      const { sessionKey: next } = await ok('session.create', { agentId: 'llm' });
      expect(
        (await rpc('session.message', { sessionKey: next, content: 'm4' })).error,
      ).toMatchObject({ code: -32012, data: { budget: 'subject', used: 48, limit: 40 } });
    });
  });
});
