import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../support/auth-tokens.js';
import { clusterBackends, startCluster, type TestCluster } from '../support/cluster.js';
import { postgresUrl } from '../support/databases.js';
import { ALL_SCOPES, postRpc, WsTestClient } from '../support/gateway.js';

const { modes } = await clusterBackends('multi-instance streaming');

describe.each(modes)('two gateway processes on $name', ({ skip, redisUrl }) => {
  describe.skipIf(skip)('', () => {
    let cluster: TestCluster;
    let auth: Record<string, string>;
    let id = 0;

    const rpc = async (baseUrl: string, method: string, params: unknown): Promise<any> => {
      const reply = await postRpc(
        baseUrl,
        { jsonrpc: '2.0', id: ++id, method, params },
        { headers: auth },
      );
      if (reply.body?.error) throw new Error(`${method}: ${JSON.stringify(reply.body.error)}`);
      return reply.body.result;
    };

    beforeAll(async () => {
      cluster = await startCluster(2, {
        databaseUrl: (await postgresUrl())!,
        redisUrl: redisUrl(),
      });
      auth = { authorization: `Bearer ${await signToken({ sub: 'alice', scope: ALL_SCOPES })}` };
    });

    afterAll(async () => {
      await cluster?.close();
    });

    it('streams to a WebSocket on A every event and delta of turns sent through B, in order, once', async () => {
      const [a, b] = cluster.instances;
      const { sessionKey } = await rpc(b.baseUrl, 'session.create', {});
      const client = await WsTestClient.connect(a.wsUrl, { headers: auth });
      try {
        const page = await client.call('session.history', { sessionKey });
        expect(page.result.map((e: { seq: number }) => e.seq)).toEqual([1]);

        const replies = [];
        for (let turn = 0; turn < 5; turn++) {
          replies.push(
            await rpc(b.baseUrl, 'session.message', {
              sessionKey,
              content: `turn ${turn} of five words`,
            }),
          );
        }
        const lastSeq = replies.at(-1).seq as number;
        const seen: number[] = [];
        while (seen.at(-1) !== lastSeq) {
          const frame = await client.next((f) => f.method === 'session.event');
          seen.push(frame.params.seq);
        }
        expect(seen).toEqual(Array.from({ length: lastSeq - 1 }, (_, i) => i + 2));
        // The echo agent streams word by word: A's client got B's deltas for each answer.
        for (const reply of replies) {
          const deltas = client.frames.filter(
            (f) => f.method === 'session.delta' && f.params.messageId === reply.messageId,
          );
          expect(deltas.map((f) => f.params.delta).join('')).toBe(reply.content);
          expect(deltas.map((f) => f.params.index)).toEqual(deltas.map((_, i) => i));
        }
        // Nothing more arrives: no duplicate.
        await client.call('agent.list', {});
        expect(client.frames.filter((f) => f.method === 'session.event')).toEqual([]);
      } finally {
        client.close();
      }
    });
  });
});
