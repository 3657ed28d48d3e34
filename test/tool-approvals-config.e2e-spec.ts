import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SecurityAuditLog } from '../src/core/audit/security-audit.log.js';
import { ToolApprovalStore } from '../src/sessions/tool-approval.store.js';
import { caller, OWNER, WipeTool, WipeToolModule } from './support/approval-fixtures.js';
import { signToken } from './support/auth-tokens.js';
import { sqliteUrl } from './support/databases.js';
import { startGateway, WsTestClient, type TestGateway } from './support/gateway.js';
import {
  FakeOpenAiServer,
  streamChunks,
  textChunks,
  toolCallChunks,
} from './support/openai-compatible-server.js';

// Approval settings beyond the defaults: a short timeout, owners who may decide, and a restart.

describe('tool approvals that time out', () => {
  let gateway: TestGateway;
  let provider: FakeOpenAiServer;

  beforeAll(async () => {
    provider = await FakeOpenAiServer.start();
    gateway = await startGateway(
      {
        approvals: { timeout: '300ms' },
        agents: [provider.agent({ id: 'guarded', approval: ['files.wipe'] })],
      },
      { imports: [WipeToolModule] },
    );
  });

  afterAll(async () => {
    await gateway?.close();
    await provider?.close();
  });

  it('denies a call nobody decided, records it, and the turn goes on', async () => {
    const rpc = caller(
      () => gateway,
      () => gateway.token,
    );
    const sessionKey = (await rpc('session.create', { agentId: 'guarded' })).result.sessionKey;
    provider.next(
      (_request, res) =>
        streamChunks(res, toolCallChunks('call_late', 'files_wipe', { path: 'b' })),
      (_request, res) => streamChunks(res, textChunks('ok, not wiped')),
    );
    const before = WipeTool.runs;
    const audit = vi.spyOn(gateway.app.get(SecurityAuditLog), 'record');
    const reply = await rpc('session.message', { sessionKey, content: 'wipe' });
    expect(audit).toHaveBeenCalledWith({
      action: 'tool.approval',
      outcome: 'ok',
      target: sessionKey,
      detail: { toolCallId: 'call_late', decision: 'deny', timedOut: true },
    });
    expect(reply.result.content).toBe('ok, not wiped');
    expect(WipeTool.runs).toBe(before);
    expect(provider.requests.at(-1)!.messages.at(-1)!.content).toContain(
      'No decision within approvals.timeout',
    );
    const events = (await rpc('session.history', { sessionKey })).result as any[];
    expect(events.find((e) => e.type === 'tool.approval')!.data).toMatchObject({
      toolCallId: 'call_late',
      decision: 'deny',
      by: null,
    });
    const approver = await signToken({ sub: 'approver', scope: 'tools:approve' });
    const late = await caller(
      () => gateway,
      () => approver,
    )('tool.approve', {
      sessionKey,
      toolCallId: 'call_late',
      decision: 'approve',
    });
    expect(late.error.code).toBe(-32009);
  });

  it('refuses a bad approvals config at boot, naming the key', async () => {
    await expect(startGateway({ approvals: { timeout: 'soon' } })).rejects.toThrow(
      /approvals\.timeout/,
    );
    await expect(
      startGateway({
        agents: [
          {
            id: 'bad',
            provider: 'openai-compatible',
            model: 'm',
            baseUrl: 'http://127.0.0.1:1/v1',
            approval: 'sometimes',
          },
        ],
      }),
    ).rejects.toThrow(/agents\[0\]\.approval/);
  });
});

describe('tool approvals after a crash on SQLite', () => {
  it('denies at boot the requests whose turn died with the previous process', async () => {
    const url = sqliteUrl();
    const approver = await signToken({ sub: 'approver', scope: 'tools:approve' });
    const first = await startGateway({ database: { url } });
    let sessionKey: string;
    try {
      const rpc = caller(
        () => first,
        () => first.token,
      );
      sessionKey = (await rpc('session.create', {})).result.sessionKey;
      // What a turn waiting for a decision leaves behind when its process is killed.
      await first.app.get(ToolApprovalStore).insert({
        sessionKey,
        toolCallId: 'call_dead',
        messageId: 'msg_dead',
        ownerSubject: 'test-user',
        agentId: 'echo',
        name: 'echo',
        arguments: { text: 'x' },
        requestedAt: Date.now(),
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
      const listed = await caller(
        () => first,
        () => approver,
      )('tool.approvals.list', {});
      expect(listed.result).toHaveLength(1);
    } finally {
      await first.close();
    }
    const second = await startGateway({ database: { url } });
    try {
      const asApprover = caller(
        () => second,
        () => approver,
      );
      expect((await asApprover('tool.approvals.list', {})).result).toEqual([]);
      const late = await asApprover('tool.approve', {
        sessionKey,
        toolCallId: 'call_dead',
        decision: 'approve',
      });
      expect(late.error).toMatchObject({ code: -32009, data: { reason: 'decided' } });
    } finally {
      await second.close();
    }
  });
});

describe('tool approvals with approvals.ownerMayApprove', () => {
  let gateway: TestGateway;
  let provider: FakeOpenAiServer;

  beforeAll(async () => {
    provider = await FakeOpenAiServer.start();
    gateway = await startGateway(
      {
        approvals: { ownerMayApprove: true },
        agents: [provider.agent({ id: 'guarded', approval: 'all' })],
      },
      { imports: [WipeToolModule] },
    );
  });

  afterAll(async () => {
    await gateway?.close();
    await provider?.close();
  });

  it("lets the session's owner see and decide its own calls", async () => {
    const owner = await signToken({ sub: 'solo', scope: OWNER });
    const ws = await WsTestClient.connect(gateway.wsUrl, {
      headers: { authorization: `Bearer ${owner}` },
    });
    try {
      const { sessionKey } = (await ws.call('session.create', { agentId: 'guarded' })).result;
      provider.next(
        (_request, res) =>
          streamChunks(res, toolCallChunks('call_own', 'files_wipe', { path: 'c' })),
        (_request, res) => streamChunks(res, textChunks('done')),
      );
      const before = WipeTool.runs;
      const reply = ws.call('session.message', { sessionKey, content: 'wipe' });
      await ws.next((f) => f.method === 'approval.requested' && f.params.sessionKey === sessionKey);
      const listed = (await ws.call('tool.approvals.list', {})).result;
      expect(listed).toContainEqual(expect.objectContaining({ sessionKey, ownerSubject: 'solo' }));
      const decided = await ws.call('tool.approve', {
        sessionKey,
        toolCallId: 'call_own',
        decision: 'approve',
      });
      expect(decided.result).toMatchObject({ decision: 'approve' });
      expect((await reply).result.content).toBe('done');
      expect(WipeTool.runs).toBe(before + 1);
    } finally {
      ws.close();
    }
  });
});
