import type { ServerResponse } from 'node:http';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  sendChunk,
  startStream,
  streamChunks,
  textChunks,
} from '../support/openai-compatible-server.js';

let provider: FakeOpenAiServer;
let gateway: TestGateway;
let browser: TestBrowser;
let context: BrowserContext;
let page: Page;
const { ok } = rpcOver(() => gateway);

describe.skipIf(!browserSuiteRuns)('stopping a turn from the dashboard chat', () => {
  beforeAll(async () => {
    browser = await launchBrowser();
    context = browser.context;
    provider = await FakeOpenAiServer.start();
    gateway = await startGateway({
      agents: [provider.agent({ name: 'Test LLM', timeout: '30s' })],
    });
    page = await signIn(context, `${gateway.baseUrl}/`, gateway.token);
    await openChat(page);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await provider?.close();
    await gateway?.close();
  });

  it('shows Stop while the turn runs; Stop keeps the partial answer, marked as stopped', async () => {
    let closed!: () => void;
    const modelStopped = new Promise<void>((resolve) => (closed = resolve));
    // The model says a few words, then hangs until the gateway stops listening.
    provider.next(async (_request: unknown, res: ServerResponse) => {
      res.on('close', closed);
      startStream(res);
      for (const data of textChunks('Thinking ', 'hard').slice(0, 3)) sendChunk(res, data);
      await modelStopped;
    });
    await page.locator('#agent').selectOption('llm');
    await page.locator('[data-test=new-session]').click();
    await page.locator('[data-test=transcript] .empty', { hasText: 'No messages yet' }).waitFor();
    const sessionKey = (await page.locator('[data-test=session-key]').textContent()) ?? '';
    expect(await page.locator('[data-test=stop]').count()).toBe(0);

    await page.locator('#message').fill('Think about it');
    await page.locator('#message').press('Enter');
    await page.locator('[data-test=streaming]', { hasText: 'Thinking hard' }).waitFor();
    const stop = page.locator('[data-test=stop]');
    await stop.waitFor();
    await screenshot(page, 'chat-stop-visible');
    await stop.click();

    const answer = page.locator('[data-test=answer][data-finish=cancelled]');
    await answer.waitFor();
    expect(await answer.textContent()).toContain('Thinking hard');
    expect(await answer.locator('[data-test=cancelled]').textContent()).toBe('Stopped');
    await modelStopped;
    await stop.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Send', exact: true }).waitFor();
    await screenshot(page, 'chat-stopped');

    const events = (await ok('session.history', { sessionKey })) as Array<{
      type: string;
      data: Record<string, unknown>;
    }>;
    expect(events.at(-1)).toMatchObject({
      type: 'message.agent',
      data: { content: 'Thinking hard', finishReason: 'cancelled' },
    });

    // The session takes the next message at once.
    provider.next((_request, res) => streamChunks(res, textChunks('Done.')));
    await page.locator('#message').fill('Go on');
    await page.locator('#message').press('Enter');
    await page.locator('[data-test=answer][data-finish=stop]', { hasText: 'Done.' }).waitFor();
    expect(await page.locator('[data-test=stop]').count()).toBe(0);
  });
});
