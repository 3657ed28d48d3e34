import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from './support/auth-tokens.js';
import { rpcOver, startGateway, WsTestClient, type TestGateway } from './support/gateway.js';
import {
  FakeOpenAiServer,
  streamChunks,
  textChunks,
  toolCallChunks,
} from './support/openai-compatible-server.js';

const SERVER = fileURLToPath(new URL('./fixtures/mcp-destructive-server.mjs', import.meta.url));

describe('approval selected by MCP annotations ("destructive" on an MCP server)', () => {
  let gateway: TestGateway;
  let provider: FakeOpenAiServer;
  let approver: WsTestClient;
  const runsFile = join(mkdtempSync(join(tmpdir(), 'openclaw-approvals-')), 'runs');
  const runs = () =>
    existsSync(runsFile) ? readFileSync(runsFile, 'utf8').split('\n').length - 1 : 0;
  const { ok } = rpcOver(() => gateway);

  const agent = (id: string, extra: Record<string, unknown> = {}) =>
    provider.agent({ id, ...extra });

  /** Runs one turn whose model calls `tool`, then answers with what the tool said. */
  const turn = (agentId: string, tool: string, id: string) => {
    provider.next(
      (_request, res) => streamChunks(res, toolCallChunks(id, tool, { path: '/data' })),
      (request, res) => streamChunks(res, textChunks(String(request.messages.at(-1)?.content))),
    );
    return ok('session.create', { agentId }).then(({ sessionKey }) => ({
      sessionKey: sessionKey as string,
      reply: ok('session.message', { sessionKey, content: 'go' }),
    }));
  };

  beforeAll(async () => {
    provider = await FakeOpenAiServer.start();
    gateway = await startGateway({
      mcpServers: {
        danger: {
          command: process.execPath,
          args: [SERVER],
          env: { RUNS_FILE: runsFile },
          approval: 'destructive',
        },
      },
      agents: [agent('plain'), agent('trusting', { approval: 'none' })],
    });
    approver = await WsTestClient.connect(gateway.wsUrl, {
      headers: {
        authorization: `Bearer ${await signToken({ sub: 'boss', scope: 'tools:approve' })}`,
      },
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const names = ((await ok('tools.list', {})) as Array<{ name: string }>).map((t) => t.name);
      if (names.includes('danger.wipe') && names.includes('danger.peek')) break;
      if (Date.now() > deadline) throw new Error(`MCP tools never came: ${names.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  afterAll(async () => {
    approver?.close();
    await gateway?.close();
    await provider?.close();
  });

  it('holds the destructive tool until approved, then runs it once', async () => {
    const { sessionKey, reply } = await turn('plain', 'danger_wipe', 'call_w');
    const note = await approver.next((f) => f.method === 'approval.requested');
    expect(note.params).toMatchObject({ sessionKey, name: 'danger.wipe', toolCallId: 'call_w' });
    expect(runs()).toBe(0);
    const decided = await approver.call('tool.approve', {
      sessionKey,
      toolCallId: 'call_w',
      decision: 'approve',
    });
    expect(decided.result).toMatchObject({ decision: 'approve' });
    expect((await reply).content).toBe('wiped /data');
    expect(runs()).toBe(1);
  });

  it('runs the read-only tool of the same server without asking', async () => {
    const { reply } = await turn('plain', 'danger_peek', 'call_p');
    expect((await reply).content).toBe('/data: empty');
    expect(approver.frames.filter((f) => f.method === 'approval.requested')).toHaveLength(0);
  });

  it('lets an agent that sets its own approval override the server default', async () => {
    const before = runs();
    const { reply } = await turn('trusting', 'danger_wipe', 'call_t');
    expect((await reply).content).toBe('wiped /data');
    expect(runs()).toBe(before + 1);
    expect(approver.frames.filter((f) => f.method === 'approval.requested')).toHaveLength(0);
  });
});
