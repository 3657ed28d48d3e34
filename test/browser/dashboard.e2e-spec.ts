import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signToken } from '../support/auth-tokens.js';
import {
  browserSuiteRuns,
  launchBrowser,
  screenshot,
  type TestBrowser,
  signIn,
} from '../support/browser.js';
import { ALL_SCOPES, startGateway, type TestGateway } from '../support/gateway.js';

// The functions given to page.evaluate run in the page; these names are the page's globals, typed
// here without pulling the DOM library into the Node project.
declare const sessionStorage: { getItem(key: string): string | null };
declare const window: { sawStreaming?: boolean };
declare const location: { hash: string };
declare const document: {
  body: unknown;
  documentElement: { scrollWidth: number; clientWidth: number };
  querySelector(selector: string): unknown;
};
declare class MutationObserver {
  constructor(callback: () => void);
  observe(target: unknown, options: Record<string, boolean>): void;
}

let gateway: TestGateway;
let browser: TestBrowser;
let context: BrowserContext;
let page: Page;
const cspViolations: string[] = [];

const shot = (name: string): Promise<void> => screenshot(page, name);

describe.skipIf(!browserSuiteRuns)('the dashboard in a browser', () => {
  beforeAll(async () => {
    browser = await launchBrowser();
    context = browser.context;
    gateway = await startGateway();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  beforeEach(() => {
    expect(cspViolations).toEqual([]);
  });

  it('signs in from the #token link, drops the token from the address bar and shows the overview', async () => {
    page = await signIn(context, `${gateway.baseUrl}/`, gateway.token, cspViolations);
    expect(page.url()).toBe(`${gateway.baseUrl}/`);
    expect(await page.evaluate(() => sessionStorage.getItem('openclaw.token'))).toBe(gateway.token);
    const status = page.locator('[data-test=status]');
    await status.waitFor();
    expect(await status.textContent()).toMatch(/Uptime\s*\d+s/);
    expect(await status.textContent()).toContain('serving');
    // The agents' live states, and the calls the dashboard itself made, counted per method.
    await page.locator('[data-test=agent]', { hasText: 'idle' }).first().waitFor();
    await page.locator('[data-test=calls] th', { hasText: 'agent.list' }).waitFor();
    await shot('overview');
  });

  it('sends a message to the echo agent and shows the streamed answer and the timeline', async () => {
    await page.getByRole('link', { name: 'Chat' }).click();
    await expect(page.locator('#agent').inputValue()).resolves.toBe('echo');
    // Record whether a partial (streaming) answer was ever rendered.
    await page.evaluate(() => {
      window.sawStreaming = false;
      new MutationObserver(() => {
        if (document.querySelector('[data-test=streaming]')) {
          window.sawStreaming = true;
        }
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    await page.locator('#message').fill(words);
    await page.locator('#message').press('Enter');
    await page.locator('[data-test=answer]', { hasText: 'word59' }).waitFor();
    expect(await page.locator('[data-test=answer]').textContent()).toContain(words);
    expect(await page.evaluate(() => window.sawStreaming)).toBe(true);
    const timeline = page.locator('[data-test=timeline] li');
    await page.locator('[data-test=timeline] li[data-type="message.agent"]').waitFor();
    expect(
      await timeline.evaluateAll((items) => items.map((li) => li.getAttribute('data-type'))),
    ).toEqual(expect.arrayContaining(['message.user', 'message.agent']));
    await shot('chat');
  });

  it('keeps the session across a reload', async () => {
    const key = await page.locator('[data-test=session-key]').textContent();
    await page.reload();
    await page.locator('[data-test=answer]', { hasText: 'word59' }).waitFor();
    expect(await page.locator('[data-test=session-key]').textContent()).toBe(key);
    expect(await page.locator('[data-test=answer]').count()).toBe(1);
  });

  it('lists the session for an admin token and opens its timeline', async () => {
    await page.getByRole('link', { name: 'Sessions' }).click();
    const key =
      (await page.evaluate(() => sessionStorage.getItem('openclaw.currentSession'))) ?? '';
    const sessionKey = (JSON.parse(key) as { sessionKey: string }).sessionKey;
    await page.getByRole('button', { name: sessionKey }).click();
    await page.locator('[data-test=timeline] li[data-type="message.agent"]').waitFor();
    await shot('sessions');
  });

  it('runs the echo tool from the form generated from its schema', async () => {
    await page.getByRole('link', { name: 'Agents & Tools' }).click();
    await page.getByRole('button', { name: 'echo', exact: true }).click();
    await page.getByRole('button', { name: 'Run' }).click();
    await expect(page.locator('.field .error').textContent()).resolves.toBe('Required');
    await page.locator('#tool-echo-text').fill('from the form');
    await page.getByRole('button', { name: 'Run' }).click();
    const result = page.locator('[data-test=tool-result]');
    await result.waitFor();
    expect(await result.textContent()).toContain('from the form');
    await shot('agents-tools');
  });

  it('browses rpc.discover', async () => {
    await page.getByRole('link', { name: 'API' }).click();
    await page.locator('[data-test=method]').first().waitFor();
    await page
      .locator('[data-test=method]', { hasText: 'session.message' })
      .locator('summary')
      .click();
    await shot('api');
  });

  it('is readable on a phone and in dark mode', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Chat' }).click();
    await page.locator('[data-test=answer]').waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('chat-phone-dark');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('signs out and forgets the token', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#token').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('openclaw.token'))).toBeNull();
    await shot('signin');
  });

  it('signs in when Enter is pressed in the token field', async () => {
    await page.locator('#token').fill(gateway.token);
    await page.locator('#token').press('Enter');
    await page.locator('[data-test=connection]', { hasText: 'open' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('openclaw.token'))).toBe(gateway.token);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#token').waitFor();
  });

  it('signs in from a #token link opened in the tab already showing the sign-in page', async () => {
    // Opening the link in this tab changes only the fragment: no reload, a hashchange event.
    const token = gateway.token;
    await page.evaluate((value) => {
      location.hash = `token=${value}`;
    }, token);
    await page.locator('[data-test=connection]', { hasText: 'open' }).waitFor();
    expect(page.url()).not.toContain('#');
    expect(await page.evaluate(() => sessionStorage.getItem('openclaw.token'))).toBe(token);
  });

  it('tells the user when the token expires', async () => {
    const shortLived = await signToken(
      { sub: 'test-user', scope: ALL_SCOPES },
      // Long enough for a slow CI machine to load the page and open the socket first.
      { exp: Math.floor(Date.now() / 1000) + 5 },
    );
    const fresh = await signIn(context, `${gateway.baseUrl}/`, shortLived);
    const notice = fresh.locator('[data-test=notice]');
    await notice.waitFor({ timeout: 10_000 });
    expect(await notice.textContent()).toMatch(/expired/i);
    expect(await fresh.evaluate(() => sessionStorage.getItem('openclaw.token'))).toBeNull();
    page = fresh;
    await shot('expired');
    await fresh.close();
  });
});
