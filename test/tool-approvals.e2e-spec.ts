import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClient, RpcError, type ApprovalNotification } from '../src/client/index.js';
import { SecurityAuditLog } from '../src/core/audit/security-audit.log.js';
import { caller, OWNER, WipeTool, WipeToolModule } from './support/approval-fixtures.js';
import { signToken } from './support/auth-tokens.js';
import { storageEngines } from './support/databases.js';
import { startGateway, WsTestClient, type TestGateway } from './support/gateway.js';
import {
  FakeOpenAiServer,
  streamChunks,
  textChunks,
  toolCallChunks,
} from './support/openai-compatible-server.js';

const engines = await storageEngines('tool approvals e2e');

describe.each(engines)('tool approvals on $name', ({ url, skip }) => {
  describe.skipIf(skip)('', () => {
    let gateway: TestGateway;
    let provider: FakeOpenAiServer;
    const tokens = { owner: '', approver: '', other: '', plain: '' };
    const asOwner = caller(
      () => gateway,
      () => tokens.owner,
    );
    const asApprover = caller(
      () => gateway,
      () => tokens.approver,
    );
    const asOther = caller(
      () => gateway,
      () => tokens.other,
    );
    const asPlain = caller(
      () => gateway,
      () => tokens.plain,
    );
    let approverWs: WsTestClient;

    const ok = async (reply: Promise<any>) => {
      const body = await reply;
      if (body.error) throw new Error(`${body.error.code} ${body.error.message}`);
      return body.result;
    };
    const newSession = async () =>
      (await ok(asOwner('session.create', { agentId: 'guarded' }))).sessionKey as string;
    const history = async (sessionKey: string) =>
      (await ok(asOwner('session.history', { sessionKey, limit: 1000 }))) as any[];

    /** Queues a model that calls files.wipe, then answers with what the tool said. */
    const modelCallsWipe = (id: string, path = '/tmp/x') =>
      provider.next(
        (_request, res) => streamChunks(res, toolCallChunks(id, 'files_wipe', { path })),
        (request, res) => {
          const said = request.messages.at(-1)?.content;
          return streamChunks(res, textChunks(`tool said: ${String(said)}`));
        },
      );

    /** Sends a message whose turn waits for approval; resolves with its request. */
    const waitingTurn = async (id: string) => {
      const sessionKey = await newSession();
      modelCallsWipe(id);
      const reply = asOwner('session.message', { sessionKey, content: 'wipe it' });
      const note = await approverWs.next(
        (f) => f.method === 'approval.requested' && f.params.sessionKey === sessionKey,
      );
      return { sessionKey, reply, note };
    };

    beforeAll(async () => {
      provider = await FakeOpenAiServer.start();
      gateway = await startGateway(
        {
          database: { url: await url() },
          agents: [provider.agent({ id: 'guarded', approval: 'destructive' })],
        },
        { imports: [WipeToolModule] },
      );
      tokens.owner = await signToken({ sub: 'owner', scope: OWNER });
      tokens.approver = await signToken({ sub: 'approver', scope: 'tools:approve' });
      tokens.other = await signToken({ sub: 'other', scope: 'sessions:read sessions:write' });
      tokens.plain = await signToken({ sub: 'plain', scope: 'tools:read tools:execute' });
      approverWs = await WsTestClient.connect(gateway.wsUrl, {
        headers: { authorization: `Bearer ${tokens.approver}` },
      });
    });

    afterAll(async () => {
      approverWs?.close();
      await gateway?.close();
      await provider?.close();
    });

    it('runs an approved call exactly once and records the whole story in order', async () => {
      const ownerWs = await WsTestClient.connect(gateway.wsUrl, {
        headers: { authorization: `Bearer ${tokens.owner}` },
      });
      try {
        const created = await ownerWs.call('session.create', { agentId: 'guarded' });
        const sessionKey = created.result.sessionKey as string;
        modelCallsWipe('call_ok');
        const before = WipeTool.runs;
        const audit = vi.spyOn(gateway.app.get(SecurityAuditLog), 'record');
        const reply = ownerWs.call('session.message', { sessionKey, content: 'wipe it' });
        const note = await approverWs.next(
          (f) => f.method === 'approval.requested' && f.params.sessionKey === sessionKey,
        );
        expect(note.params).toMatchObject({
          toolCallId: 'call_ok',
          name: 'files.wipe',
          arguments: { path: '/tmp/x' },
          agentId: 'guarded',
          ownerSubject: 'owner',
        });
        expect(Date.parse(note.params.expiresAt)).toBeGreaterThan(Date.now());
        // The owner's own subscription sees the request as a session event.
        const requested = await ownerWs.next(
          (f) => f.method === 'session.event' && f.params.type === 'tool.approval_requested',
        );
        expect(requested.params.data).toMatchObject({ toolCallId: 'call_ok', name: 'files.wipe' });
        expect(WipeTool.runs).toBe(before);

        const listed = await ok(asApprover('tool.approvals.list', {}));
        expect(listed).toContainEqual(
          expect.objectContaining({ sessionKey, toolCallId: 'call_ok' }),
        );

        expect(
          await ok(
            asApprover('tool.approve', {
              sessionKey,
              toolCallId: 'call_ok',
              decision: 'approve',
              reason: 'looks fine',
            }),
          ),
        ).toEqual({ sessionKey, toolCallId: 'call_ok', decision: 'approve' });
        const decided = await approverWs.next(
          (f) => f.method === 'approval.decided' && f.params.sessionKey === sessionKey,
        );
        expect(decided.params).toMatchObject({ decision: 'approve', by: 'approver' });
        expect(audit).toHaveBeenCalledWith({
          action: 'tool.approval',
          outcome: 'ok',
          subject: 'approver',
          target: sessionKey,
          detail: { toolCallId: 'call_ok', decision: 'approve' },
        });

        expect((await reply).result.content).toBe('tool said: wiped /tmp/x');
        expect(WipeTool.runs).toBe(before + 1);
        const events = await history(sessionKey);
        expect(events.map((e) => e.type)).toEqual([
          'session.created',
          'message.user',
          'tool.call',
          'tool.approval_requested',
          'tool.approval',
          'tool.result',
          'message.agent',
        ]);
        expect(events[4].data).toMatchObject({
          toolCallId: 'call_ok',
          decision: 'approve',
          by: 'approver',
          reason: 'looks fine',
        });
        const after = await ok(asApprover('tool.approvals.list', {}));
        expect(after).not.toContainEqual(expect.objectContaining({ sessionKey }));
      } finally {
        ownerWs.close();
      }
    });

    it('never runs a denied call, and the model sees the denial as a tool error', async () => {
      const before = WipeTool.runs;
      const { sessionKey, reply } = await waitingTurn('call_no');
      await ok(
        asApprover('tool.approve', {
          sessionKey,
          toolCallId: 'call_no',
          decision: 'deny',
          reason: 'not today',
        }),
      );
      const answer = (await reply).result;
      expect(answer.content).toBe(
        'tool said: Tool call "files.wipe" was denied by approver: not today',
      );
      expect(WipeTool.runs).toBe(before);
      const toolMessage = provider.requests.at(-1)!.messages.at(-1)!;
      expect(toolMessage).toMatchObject({ role: 'tool', tool_call_id: 'call_no' });
      expect(toolMessage.content).toContain('denied by approver: not today');
      const events = await history(sessionKey);
      expect(events.find((e) => e.type === 'tool.result')!.data.result).toMatchObject({
        isError: true,
      });
      expect(events.find((e) => e.type === 'tool.approval')!.data).toMatchObject({
        decision: 'deny',
        by: 'approver',
      });
    });

    it('refuses a second decision with -32009, and the first one stands', async () => {
      const before = WipeTool.runs;
      const { sessionKey, reply } = await waitingTurn('call_twice');
      const decide = (decision: string) =>
        asApprover('tool.approve', { sessionKey, toolCallId: 'call_twice', decision });
      expect((await decide('deny')).result).toMatchObject({ decision: 'deny' });
      expect((await decide('approve')).error).toMatchObject({
        code: -32009,
        data: { reason: 'decided' },
      });
      await reply;
      expect(WipeTool.runs).toBe(before);
    });

    it('lets exactly one of a flood of concurrent decisions win', async () => {
      const before = WipeTool.runs;
      const { sessionKey, reply } = await waitingTurn('call_flood');
      const replies = await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          asApprover('tool.approve', {
            sessionKey,
            toolCallId: 'call_flood',
            decision: i % 2 ? 'deny' : 'approve',
          }),
        ),
      );
      const won = replies.filter((r) => r.result);
      expect(won).toHaveLength(1);
      expect(replies.filter((r) => r.error?.code === -32009)).toHaveLength(24);
      await reply;
      expect(WipeTool.runs).toBe(before + (won[0].result.decision === 'approve' ? 1 : 0));
      const approvals = (await history(sessionKey)).filter((e) => e.type === 'tool.approval');
      expect(approvals).toHaveLength(1);
      expect(approvals[0].data.decision).toBe(won[0].result.decision);
    });

    it('refuses callers without tools:approve (-32003), the owner (four eyes), and unknown calls (-32004)', async () => {
      const { sessionKey, reply, note } = await waitingTurn('call_who');
      const params = { sessionKey, toolCallId: 'call_who', decision: 'approve' };
      expect((await asOther('tool.approve', params)).error).toMatchObject({
        code: -32003,
        data: { requiredScope: 'tools:approve' },
      });
      expect((await asPlain('tool.approvals.list', {})).error).toMatchObject({ code: -32003 });
      expect((await asOwner('tool.approve', params)).error).toMatchObject({
        code: -32003,
        data: { reason: 'own-session' },
      });
      // The owner's list leaves out its own sessions' requests.
      const ownList = await ok(asOwner('tool.approvals.list', {}));
      expect(ownList).not.toContainEqual(expect.objectContaining({ sessionKey }));
      // Another session's key with this call id, or an unknown id: as if it did not exist.
      const otherSession = await newSession();
      expect(
        (await asApprover('tool.approve', { ...params, sessionKey: otherSession })).error,
      ).toMatchObject({ code: -32004 });
      expect(
        (await asApprover('tool.approve', { ...params, toolCallId: 'call_unknown' })).error,
      ).toMatchObject({ code: -32004 });
      expect(
        (await asApprover('tool.approve', { ...params, sessionKey: 'sess_nope' })).error,
      ).toMatchObject({ code: -32004 });
      expect(note.params.toolCallId).toBe('call_who');
      await ok(asApprover('tool.approve', { ...params, decision: 'deny' }));
      await reply;
    });

    it('refuses hostile params with -32602 and loses nothing', async () => {
      const { sessionKey, reply } = await waitingTurn('call_hostile');
      const base = { sessionKey, toolCallId: 'call_hostile' };
      for (const params of [
        { ...base, decision: 'approve', reason: 'x'.repeat(100_000) },
        { ...base, decision: 'maybe' },
        { ...base, decision: 'approve', extra: true },
        { ...base, toolCallId: 'c'.repeat(10_000), decision: 'approve' },
        [sessionKey, 'call_hostile', 'approve'],
      ]) {
        expect((await asApprover('tool.approve', params)).error.code).toBe(-32602);
      }
      expect((await asApprover('tool.approvals.list', { limit: 5 })).error.code).toBe(-32602);
      // Still pending, still decidable.
      const listed = await ok(asApprover('tool.approvals.list', {}));
      expect(listed).toContainEqual(expect.objectContaining({ sessionKey }));
      await ok(asApprover('tool.approve', { ...base, decision: 'deny' }));
      expect((await reply).result.finishReason).toBe('stop');
    });

    it('fails a call with oversize arguments before asking anyone', async () => {
      const sessionKey = await newSession();
      provider.next((_request, res) =>
        streamChunks(res, toolCallChunks('call_big', 'files_wipe', { path: 'p'.repeat(300_000) })),
      );
      const before = WipeTool.runs;
      const reply = await asOwner('session.message', { sessionKey, content: 'wipe a lot' });
      expect(reply.error.code).toBe(-32010);
      expect(WipeTool.runs).toBe(before);
      const listed = await ok(asApprover('tool.approvals.list', {}));
      expect(listed).not.toContainEqual(expect.objectContaining({ sessionKey }));
    });

    it('needs no approval for tools.execute, the client’s own act', async () => {
      const before = WipeTool.runs;
      const result = await ok(
        asOwner('tools.execute', { name: 'files.wipe', arguments: { path: 'a' } }),
      );
      expect(result.isError).toBe(false);
      expect(WipeTool.runs).toBe(before + 1);
    });

    it('is typed in the client library: live notifications, list and decision', async () => {
      const client = createClient({ url: gateway.baseUrl, token: tokens.approver });
      try {
        const notes: ApprovalNotification[] = [];
        client.onApproval((note) => notes.push(note));
        await client.connect();
        const before = WipeTool.runs;
        const { sessionKey, reply } = await waitingTurn('call_client');
        const deadline = Date.now() + 5000;
        while (!notes.some((n) => n.method === 'approval.requested')) {
          if (Date.now() > deadline) throw new Error('no approval.requested');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect(notes[0]).toMatchObject({
          method: 'approval.requested',
          params: { sessionKey, toolCallId: 'call_client', name: 'files.wipe' },
        });
        const pending = await client.tools.approvals();
        expect(pending.map((p) => p.toolCallId)).toContain('call_client');
        expect(
          await client.tools.approve({
            sessionKey,
            toolCallId: 'call_client',
            decision: 'approve',
          }),
        ).toEqual({ sessionKey, toolCallId: 'call_client', decision: 'approve' });
        const second = await client.tools
          .approve({ sessionKey, toolCallId: 'call_client', decision: 'deny' })
          .catch((error: unknown) => error);
        expect(second).toBeInstanceOf(RpcError);
        expect((second as RpcError).code).toBe(-32009);
        await reply;
        expect(WipeTool.runs).toBe(before + 1);
        while (!notes.some((n) => n.method === 'approval.decided')) {
          if (Date.now() > deadline) throw new Error('no approval.decided');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      } finally {
        client.close();
      }
    });

    it('stops waiting when the session ends, and records the call as denied', async () => {
      const before = WipeTool.runs;
      const { sessionKey, reply } = await waitingTurn('call_end');
      await ok(asOwner('session.end', { sessionKey }));
      await reply;
      const events = await history(sessionKey);
      // A call cut short by the end of its turn is answered with a failed result.
      expect(events.slice(-5).map((e) => e.type)).toEqual([
        'tool.approval_requested',
        'tool.approval',
        'tool.result',
        'message.agent',
        'session.ended',
      ]);
      expect(events.at(-3)?.data).toMatchObject({
        toolCallId: 'call_end',
        result: { isError: true },
      });
      expect(WipeTool.runs).toBe(before);
      const decided = await approverWs.next(
        (f) => f.method === 'approval.decided' && f.params.sessionKey === sessionKey,
      );
      expect(decided.params).toMatchObject({ decision: 'deny', by: null });
      expect(
        (
          await asApprover('tool.approve', {
            sessionKey,
            toolCallId: 'call_end',
            decision: 'approve',
          })
        ).error.code,
      ).toBe(-32009);
    });
  });
});
