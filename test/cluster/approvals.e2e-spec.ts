import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../support/auth-tokens.js';
import {
  clusterBackends,
  HIGH_RATE_LIMITS,
  startCluster,
  type ClusterInstance,
  type TestCluster,
} from '../support/cluster.js';
import { postgresUrl } from '../support/databases.js';
import { postRpc, WsTestClient } from '../support/gateway.js';
import {
  FakeOpenAiServer,
  streamChunks,
  textChunks,
  toolCallChunks,
} from '../support/openai-compatible-server.js';

const SERVER = fileURLToPath(new URL('../fixtures/mcp-destructive-server.mjs', import.meta.url));

const { modes } = await clusterBackends('multi-instance approvals');

interface Reply {
  result?: any;
  error?: { code: number; message: string; data?: any };
}

describe.each(modes)(
  'tool approvals across two gateway processes on $name',
  ({ skip, redisUrl }) => {
    describe.skipIf(skip)('', () => {
      let cluster: TestCluster;
      let provider: FakeOpenAiServer;
      let approverWs: WsTestClient;
      const tokens = { owner: '', approver: '' };
      const runsFile = join(mkdtempSync(join(tmpdir(), 'openclaw-approvals-')), 'runs');
      const runs = () =>
        existsSync(runsFile) ? readFileSync(runsFile, 'utf8').split('\n').length - 1 : 0;
      let id = 0;

      const call = async (
        gw: ClusterInstance,
        token: string,
        method: string,
        params: unknown,
      ): Promise<Reply> =>
        (
          await postRpc(
            gw.baseUrl,
            { jsonrpc: '2.0', id: ++id, method, params },
            { headers: { authorization: `Bearer ${token}` } },
          )
        ).body as Reply;

      /** Starts a turn on `gw` whose model calls danger.wipe; resolves once approvers were told. */
      const waitingTurn = async (gw: ClusterInstance, toolCallId: string) => {
        const created = await call(gw, tokens.owner, 'session.create', { agentId: 'guarded' });
        const sessionKey = created.result.sessionKey as string;
        provider.next(
          (_request, res) =>
            streamChunks(res, toolCallChunks(toolCallId, 'danger_wipe', { path: '/data' })),
          (request, res) => streamChunks(res, textChunks(String(request.messages.at(-1)?.content))),
        );
        const reply = call(gw, tokens.owner, 'session.message', { sessionKey, content: 'wipe' });
        await approverWs.next(
          (f) => f.method === 'approval.requested' && f.params.sessionKey === sessionKey,
          10_000,
        );
        return { sessionKey, reply };
      };

      beforeAll(async () => {
        provider = await FakeOpenAiServer.start();
        cluster = await startCluster(2, {
          databaseUrl: (await postgresUrl())!,
          redisUrl: redisUrl(),
          config: {
            mcpServers: {
              danger: {
                command: process.execPath,
                args: [SERVER],
                env: { RUNS_FILE: runsFile },
                approval: 'destructive',
              },
            },
            agents: [provider.agent({ id: 'guarded', tools: ['danger.wipe'] })],
            sessions: { leaseTtl: 1000 },
            rateLimit: HIGH_RATE_LIMITS,
          },
        });
        tokens.owner = await signToken({
          sub: 'alice',
          scope: 'sessions:read sessions:write tools:read',
        });
        tokens.approver = await signToken({ sub: 'bob', scope: 'tools:approve' });
        // The approver watches instance B only; the turns run on A.
        approverWs = await WsTestClient.connect(cluster.instances[1].wsUrl, {
          headers: { authorization: `Bearer ${tokens.approver}` },
        });
        // Each instance starts its own MCP server; wait until A lists its tool.
        const deadline = Date.now() + 20_000;
        for (;;) {
          const listed = await call(cluster.instances[0], tokens.owner, 'tools.list', {});
          if (listed.result?.some((t: { name: string }) => t.name === 'danger.wipe')) break;
          if (Date.now() > deadline) throw new Error(`no MCP tool: ${JSON.stringify(listed)}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      });

      afterAll(async () => {
        approverWs?.close();
        await cluster?.close();
        await provider?.close();
      });

      it('runs the call on A once, approved on B; a second decision on A is refused', async () => {
        const [a, b] = cluster.instances;
        const before = runs();
        const { sessionKey, reply } = await waitingTurn(a, 'call_ab');
        const listed = await call(b, tokens.approver, 'tool.approvals.list', {});
        expect(listed.result).toContainEqual(
          expect.objectContaining({ sessionKey, toolCallId: 'call_ab', name: 'danger.wipe' }),
        );
        expect(runs()).toBe(before);
        const decided = await call(b, tokens.approver, 'tool.approve', {
          sessionKey,
          toolCallId: 'call_ab',
          decision: 'approve',
        });
        expect(decided.result).toEqual({ sessionKey, toolCallId: 'call_ab', decision: 'approve' });
        expect((await reply).result.content).toBe('wiped /data');
        expect(runs()).toBe(before + 1);
        const again = await call(a, tokens.approver, 'tool.approve', {
          sessionKey,
          toolCallId: 'call_ab',
          decision: 'deny',
        });
        expect(again.error?.code).toBe(-32009);
        const log = (await call(b, tokens.owner, 'session.history', { sessionKey }))
          .result as any[];
        expect(log.map((e) => e.type)).toEqual([
          'session.created',
          'message.user',
          'tool.call',
          'tool.approval_requested',
          'tool.approval',
          'tool.result',
          'message.agent',
        ]);
        expect(log[4].data).toMatchObject({ decision: 'approve', by: 'bob' });
      });

      it('denies on B while the turn waits on A: the tool never runs and the model is told', async () => {
        const [a, b] = cluster.instances;
        const before = runs();
        const { sessionKey, reply } = await waitingTurn(a, 'call_deny');
        const floods = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            call(i % 2 ? a : b, tokens.approver, 'tool.approve', {
              sessionKey,
              toolCallId: 'call_deny',
              decision: 'deny',
              reason: `no ${i}`,
            }),
          ),
        );
        expect(floods.filter((r) => r.result)).toHaveLength(1);
        expect(floods.filter((r) => r.error?.code === -32009)).toHaveLength(9);
        expect((await reply).result.content).toMatch(
          /^Tool call "danger.wipe" was denied by bob: no \d$/,
        );
        expect(runs()).toBe(before);
      });

      it('drops the request of a turn whose instance died: not listed, and a decision is refused', async () => {
        const [a, b] = cluster.instances;
        const { sessionKey, reply } = await waitingTurn(a, 'call_dead');
        // The caller's request dies with A: handled now, before the process goes.
        const outcome = reply.then(
          () => 'answered',
          () => 'connection lost',
        );
        await a.stop('SIGKILL');
        expect(await outcome).toBe('connection lost');
        // Once A's lease has expired (sessions.leaseTtl), nobody waits for the decision any more.
        const deadline = Date.now() + 10_000;
        for (;;) {
          const listed = await call(b, tokens.approver, 'tool.approvals.list', {});
          if (!listed.result.some((r: { sessionKey: string }) => r.sessionKey === sessionKey))
            break;
          if (Date.now() > deadline) throw new Error('the dead turn’s request is still listed');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const late = await call(b, tokens.approver, 'tool.approve', {
          sessionKey,
          toolCallId: 'call_dead',
          decision: 'approve',
        });
        expect(late.error).toMatchObject({ code: -32009, data: { reason: 'expired' } });
      });
    });
  },
);
