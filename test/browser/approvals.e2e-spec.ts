import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../support/auth-tokens.js';
import {
  browserSuiteRuns,
  launchBrowser,
  screenshot,
  type TestBrowser,
  signIn,
} from '../support/browser.js';
import { rpcOver, startGateway, type TestGateway } from '../support/gateway.js';
import {
  FakeOpenAiServer,
  streamChunks,
  textChunks,
  toolCallChunks,
} from '../support/openai-compatible-server.js';

let provider: FakeOpenAiServer;
let gateway: TestGateway;
let browser: TestBrowser;
let context: BrowserContext;
/** Signed in as `approver` (scope tools:approve only), on the Approvals view. */
let approver: Page;
const { ok } = rpcOver(() => gateway);

/** Starts a turn (as the admin test-user) whose model calls echo, which needs approval. */
async function guardedTurn(toolCallId: string, text: string) {
  const { sessionKey } = (await ok('session.create', { agentId: 'guarded' })) as {
    sessionKey: string;
  };
  provider.next(
    (_request, res) => streamChunks(res, toolCallChunks(toolCallId, 'echo', { text })),
    (request, res) => streamChunks(res, textChunks(String(request.messages.at(-1)?.content))),
  );
  const reply = ok('session.message', { sessionKey, content: 'echo it' }) as Promise<{
    content: string;
  }>;
  return { sessionKey, reply };
}

function signedIn(token: string): Promise<Page> {
  return signIn(context, `${gateway.baseUrl}/`, token);
}

describe.skipIf(!browserSuiteRuns)('the Approvals view, in a browser', () => {
  beforeAll(async () => {
    browser = await launchBrowser();
    context = browser.context;
    provider = await FakeOpenAiServer.start();
    gateway = await startGateway({
      agents: [provider.agent({ id: 'guarded', tools: ['echo'], approval: ['echo'] })],
    });
    approver = await signedIn(await signToken({ sub: 'approver', scope: 'tools:approve' }));
    await approver.getByRole('link', { name: 'Approvals' }).click();
    await approver.locator('[data-test=approvals-empty]').waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await provider?.close();
  });

  it('shows a request live, approves it with a reason, and the tool runs', async () => {
    const { sessionKey, reply } = await guardedTurn('call_b1', 'hello');
    const card = approver.locator('[data-test=approval]');
    await card.waitFor();
    expect(await card.locator('[data-test=approval-tool]').textContent()).toBe('echo');
    expect(await card.textContent()).toContain(sessionKey);
    expect(
      JSON.parse((await card.locator('[data-test=approval-arguments]').textContent()) ?? ''),
    ).toEqual({ text: 'hello' });
    await screenshot(approver, 'approvals-pending');
    await card.locator('[data-test=approval-reason]').fill('harmless');
    await card.locator('[data-test=approve]').click();
    await approver.locator('[data-test=approvals-empty]').waitFor();
    expect((await reply).content).toBe('hello');
    const events = (await ok('session.history', { sessionKey })) as Array<{
      type: string;
      data: Record<string, unknown>;
    }>;
    expect(events.find((e) => e.type === 'tool.approval')?.data).toMatchObject({
      decision: 'approve',
      by: 'approver',
      reason: 'harmless',
    });
    await approver
      .locator('[data-test=decided] li', { hasText: 'approved by approver: harmless' })
      .waitFor();
  });

  it('denies from the view, and the session timeline shows the request and the decision', async () => {
    const { sessionKey, reply } = await guardedTurn('call_b2', 'secret');
    const card = approver.locator('[data-test=approval]');
    await card.waitFor();
    await card.locator('[data-test=approval-reason]').fill('not now');
    await card.locator('[data-test=deny]').click();
    expect((await reply).content).toBe('Tool call "echo" was denied by approver: not now');
    await approver.locator('[data-test=approvals-empty]').waitFor();

    // The owner (an admin here) opens the session's timeline.
    const owner = await signedIn(gateway.token);
    try {
      await owner.getByRole('link', { name: 'Sessions' }).click();
      await owner.getByRole('button', { name: sessionKey }).click();
      const denied = owner.locator('[data-test=timeline] li[data-type="tool.approval"]');
      await denied.waitFor();
      expect(await denied.getAttribute('data-decision')).toBe('deny');
      expect(await denied.locator('.summary').textContent()).toBe('denied by approver: not now');
      const requested = owner.locator(
        '[data-test=timeline] li[data-type="tool.approval_requested"] .summary',
      );
      expect(await requested.textContent()).toMatch(/^echo waits for approval until /);
      const types = await owner
        .locator('[data-test=timeline] li')
        .evaluateAll((items) => items.map((li) => li.getAttribute('data-type')));
      expect(types).toEqual([
        'session.created',
        'message.user',
        'tool.call',
        'tool.approval_requested',
        'tool.approval',
        'tool.result',
        'message.agent',
      ]);
      await screenshot(owner, 'approvals-timeline');
    } finally {
      await owner.close();
    }
  });

  it('tells a token without tools:approve that it cannot decide', async () => {
    const reader = await signedIn(await signToken({ sub: 'reader', scope: 'sessions:read' }));
    try {
      await reader.getByRole('link', { name: 'Approvals' }).click();
      await reader.locator('[data-test=approvals-forbidden]').waitFor();
    } finally {
      await reader.close();
    }
  });
});
