import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WsConnectionRegistry } from '../../src/core/ws/ws-connection.registry.js';
import {
  browserSuiteRuns,
  launchBrowser,
  screenshot,
  type TestBrowser,
  signIn,
  openChat,
} from '../support/browser.js';
import { rpcOver, startGateway, type TestGateway } from '../support/gateway.js';
import {
  FakeOpenAiServer,
  streamChunks,
  textChunks,
  toolCallChunks,
} from '../support/openai-compatible-server.js';

// The functions given to page.evaluate run in the page; these names are the page's globals, typed
// here without pulling the DOM library into the Node project.
declare const window: {
  sawStreaming?: boolean;
  streamedTexts?: string[];
  connectionStates?: string[];
};
declare const document: {
  body: unknown;
  querySelector(selector: string): { textContent: string | null } | null;
};
declare class MutationObserver {
  constructor(callback: () => void);
  observe(target: unknown, options: Record<string, boolean>): void;
}

let provider: FakeOpenAiServer;
let gateway: TestGateway;
let browser: TestBrowser;
let context: BrowserContext;
let page: Page;
const cspViolations: string[] = [];
const { ok } = rpcOver(() => gateway);

const shot = (name: string): Promise<void> => screenshot(page, name);

/** The timeline as the user sees it: each entry's seq and type, top to bottom. */
async function timeline(): Promise<Array<{ seq: number; type: string }>> {
  return page.locator('[data-test=timeline] li').evaluateAll((items) =>
    items.map((li) => ({
      seq: Number(li.querySelector('.seq')?.textContent?.replace('#', '')),
      type: li.getAttribute('data-type') ?? '',
    })),
  );
}

/** The session's events as the gateway stores them. */
async function stored(sessionKey: string): Promise<Array<{ seq: number; type: string }>> {
  const events = (await ok('session.history', { sessionKey, limit: 1000 })) as Array<{
    seq: number;
    type: string;
  }>;
  return events.map(({ seq, type }) => ({ seq, type }));
}

/** The transcript's bubbles and cards, top to bottom, as `data-test: text` (a card's parts apart). */
async function transcript(): Promise<string[]> {
  return page.locator('[data-test=transcript] > *').evaluateAll((nodes) =>
    nodes.map((node) => {
      const parts = node.children.length > 0 ? [...node.children] : [node];
      const text = parts.map((part) => (part.textContent ?? '').replace(/\s+/g, ' ').trim());
      return `${node.getAttribute('data-test')}: ${text.join(' ')}`;
    }),
  );
}

/** Picks the agent and starts a session with it, as a user does; returns the new session's key. */
async function openNewSession(agentId: string): Promise<string> {
  const keyLabel = page.locator('[data-test=session-key]');
  // allTextContents does not wait: there is no key before the first session.
  const before = await keyLabel.allTextContents();
  await page.locator('#agent').selectOption(agentId);
  await page.locator('[data-test=new-session]').click();
  await page.locator('[data-test=transcript] .empty', { hasText: 'No messages yet' }).waitFor();
  const key = (await keyLabel.textContent()) ?? '';
  expect(before).not.toContain(key);
  return key;
}

/**
 * Sends from the composer and waits for the answer, then for the call to return (the button
 * reads Send again): the reply follows the answer's event, and a drop before it would fail it.
 */
async function sendFromComposer(content: string, answer = content): Promise<void> {
  await page.locator('#message').fill(content);
  await page.locator('#message').press('Enter');
  await page.locator('[data-test=answer]', { hasText: answer }).waitFor();
  await page.getByRole('button', { name: 'Send', exact: true }).waitFor();
}

describe.skipIf(!browserSuiteRuns)('the dashboard live, in a browser', () => {
  beforeAll(async () => {
    browser = await launchBrowser();
    context = browser.context;
    provider = await FakeOpenAiServer.start();
    gateway = await startGateway({
      agents: [provider.agent({ name: 'Test LLM', tools: ['echo'] })],
    });
    page = await signIn(context, `${gateway.baseUrl}/`, gateway.token, cspViolations);
    await openChat(page);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await provider?.close();
  });

  afterEach(() => {
    expect(cspViolations).toEqual([]);
  });

  it('shows an LLM agent’s tool call and its result as cards, then the streamed answer', async () => {
    provider.next(
      // A few words before the call, as models often say: the call's card must keep them.
      (_request, res) =>
        streamChunks(res, [
          textChunks('Let me check.')[1],
          ...toolCallChunks('call_1', 'echo', { text: 'ping' }),
        ]),
      (_request, res) => streamChunks(res, textChunks('The tool ', 'said ', 'ping.')),
    );
    const key = await openNewSession('llm');
    // Record every partial (streaming) answer rendered.
    await page.evaluate(() => {
      window.sawStreaming = false;
      window.streamedTexts = [];
      new MutationObserver(() => {
        const bubble = document.querySelector('[data-test=streaming]');
        if (!bubble) return;
        window.sawStreaming = true;
        window.streamedTexts!.push(bubble.textContent ?? '');
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    await sendFromComposer('Use the echo tool', 'The tool said ping.');
    expect(await page.evaluate(() => window.sawStreaming)).toBe(true);
    // The words before the call move to its card: the answer's bubble never repeats them.
    const streamed = await page.evaluate(() => window.streamedTexts ?? []);
    expect(streamed.filter((text) => text.includes('The tool'))).not.toHaveLength(0);
    expect(streamed.filter((text) => text.includes('Let me check.The tool'))).toEqual([]);

    // One card per event: the tool's name, then the call's arguments or the result's text.
    const call = page.locator('[data-test="tool.call"]');
    const result = page.locator('[data-test="tool.result"]');
    expect(await call.count()).toBe(1);
    expect(await result.count()).toBe(1);
    expect(await call.locator('strong').textContent()).toBe('Tool call');
    expect(await call.locator('[data-test=tool-name]').textContent()).toBe('echo');
    expect(JSON.parse((await call.locator('[data-test=tool-body]').textContent()) ?? '')).toEqual({
      text: 'ping',
    });
    expect(await call.locator('.tool-text').textContent()).toContain('Let me check.');
    expect(await result.locator('strong').textContent()).toBe('Tool result');
    expect(await result.locator('[data-test=tool-name]').textContent()).toBe('echo');
    expect(await result.locator('[data-test=tool-body]').textContent()).toBe('ping');

    // The question, the call, its result and the answer, in that order and each once.
    expect(await transcript()).toEqual([
      'question: Use the echo tool',
      'tool.call: Let me check. Tool call echo { "text": "ping" }',
      'tool.result: Tool result echo ping',
      'answer: The tool said ping.',
    ]);

    await page.locator('[data-test=timeline] li[data-type="message.agent"]').waitFor();
    expect(await timeline()).toEqual(await stored(key));
    expect((await timeline()).map((event) => event.type)).toEqual([
      'session.created',
      'message.user',
      'tool.call',
      'tool.result',
      'message.agent',
    ]);
    await shot('tool-cards');
  });

  it('shows the connection dropping, reconnects and resumes the session without gap or duplicate', async () => {
    const key = await openNewSession('echo');
    await sendFromComposer('hello before the drop');

    // Record every connection state the header shows from now on.
    await page.evaluate(() => {
      window.connectionStates = [];
      const badge = document.querySelector('[data-test=connection]');
      new MutationObserver(() => {
        window.connectionStates?.push(badge?.textContent ?? '');
      }).observe(badge, { childList: true, subtree: true, characterData: true });
    });

    // Offline first, so the browser cannot come back until the test has appended events: what
    // it missed then comes from the resume, not from live notifications.
    await context.setOffline(true);
    const registry = gateway.app.get(WsConnectionRegistry);
    const sockets = [...registry.all()].map((connection) => connection.socket);
    expect(sockets).toHaveLength(1);
    sockets.forEach((socket) => socket.terminate());
    await page.locator('[data-test=connection]', { hasText: 'reconnecting' }).waitFor();

    // Another client, same subject, over HTTP: a message and a recorded tool run.
    await ok('session.message', { sessionKey: key, content: 'sent while the tab was away' });
    await ok('tools.execute', {
      name: 'echo',
      arguments: { text: 'also while away' },
      sessionKey: key,
    });
    // Still away: nothing reached the tab yet.
    expect(registry.size).toBe(0);
    expect(await page.locator('[data-test=connection]').textContent()).toBe('reconnecting');
    expect(await page.locator('[data-test=answer]').count()).toBe(1);
    await shot('reconnecting');

    await context.setOffline(false);
    await page.locator('[data-test=connection]', { hasText: 'open' }).waitFor();
    await page.locator('[data-test="tool.result"]', { hasText: 'also while away' }).waitFor();
    expect(await timeline()).toEqual(await stored(key));

    // Live again: a message from the composer arrives once, after what was missed.
    await sendFromComposer('and after the return');
    await page.locator('[data-test=timeline] li').nth(8).waitFor();
    expect(await transcript()).toEqual([
      'question: hello before the drop',
      'answer: hello before the drop',
      'question: sent while the tab was away',
      'answer: sent while the tab was away',
      'tool.call: Tool call echo { "text": "also while away" }',
      'tool.result: Tool result echo also while away',
      'question: and after the return',
      'answer: and after the return',
    ]);
    const events = await timeline();
    expect(events).toEqual(await stored(key));
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(events.map((event) => event.type)).toEqual([
      'session.created',
      'message.user',
      'message.agent',
      'message.user',
      'message.agent',
      'tool.call',
      'tool.result',
      'message.user',
      'message.agent',
    ]);
    // The header said so while it was away, and nothing else (not signed out, not expired).
    expect(await page.evaluate(() => window.connectionStates)).toEqual(['reconnecting', 'open']);
    await shot('reconnected');
  });
});
