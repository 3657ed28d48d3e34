import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { DEFAULT_DASHBOARD_ROOT } from '../../src/dashboard/dashboard.module.js';

// Debian's chromium, installed by .ci/run; never a downloaded browser. In CI a missing browser
// fails the suite; on a workstation without it the suite is skipped.
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(process.cwd(), 'test-results', 'screenshots');

/** Whether a browser suite runs here: always in CI (where a missing browser fails it). */
export const browserSuiteRuns = existsSync(CHROMIUM) || Boolean(process.env.CI);

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless chromium in a throwaway profile, after checking the browser and the dashboard build. */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  if (!existsSync(join(DEFAULT_DASHBOARD_ROOT, 'index.html'))) {
    throw new Error('public/index.html is missing: run `npm run build` first');
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'openclaw-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Keeps what the user sees as a test artifact: test-results/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/**
 * A new page signed in from the dashboard's `#token=` link (at `url`, `/` by default), once its
 * connection is open. Content Security Policy violations the page reports go to `cspViolations`.
 */
export async function signIn(
  context: BrowserContext,
  url: string,
  token: string,
  cspViolations?: string[],
): Promise<Page> {
  const page = await context.newPage();
  if (cspViolations) {
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  }
  await page.goto(`${url}#token=${token}`);
  await page.locator('[data-test=connection]', { hasText: 'open' }).waitFor();
  return page;
}

/** Opens the Chat view, once `agentId` can be picked there. */
export async function openChat(page: Page, agentId = 'llm'): Promise<void> {
  await page.getByRole('link', { name: 'Chat' }).click();
  await page.locator(`#agent option[value=${agentId}]`).waitFor({ state: 'attached' });
}
