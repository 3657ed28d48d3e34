import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../support/auth-tokens.js';
import {
  browserSuiteRuns,
  launchBrowser,
  screenshot,
  type TestBrowser,
} from '../support/browser.js';
import { ALL_SCOPES, postRpc, startGateway, type TestGateway } from '../support/gateway.js';
import { FakeOpenAiServer, streamChunks, textChunks } from '../support/openai-compatible-server.js';

let gateway: TestGateway;
let provider: FakeOpenAiServer;
let browser: TestBrowser;
let page: Page;

const agent = (id: string) => ({
  id,
  provider: 'openai-compatible',
  model: 'test-model',
  baseUrl: provider.baseUrl,
  maxRetries: 0,
});

/** One turn as `sub`: the fake provider's answer of `pieces` costs 11 + pieces tokens. */
async function turn(sub: string, agentId: string, pieces: string[]): Promise<void> {
  const headers = {
    authorization: `Bearer ${await signToken({ sub, scope: ALL_SCOPES })}`,
  };
  const call = async (method: string, params: unknown) => {
    const reply = await postRpc(
      gateway.baseUrl,
      { jsonrpc: '2.0', id: 1, method, params },
      { headers },
    );
    if (reply.body.error) throw new Error(JSON.stringify(reply.body.error));
    return reply.body.result;
  };
  const { sessionKey } = await call('session.create', { agentId });
  provider.next((_request, res) => streamChunks(res, textChunks(...pieces)));
  await call('session.message', { sessionKey, content: 'hi' });
}

describe.skipIf(!browserSuiteRuns)('the usage view in a browser', () => {
  beforeAll(async () => {
    browser = await launchBrowser();
    provider = await FakeOpenAiServer.start();
    gateway = await startGateway({ agents: [agent('alpha'), agent('beta')] });
    await turn('test-user', 'alpha', ['a']);
    await turn('test-user', 'alpha', ['b']);
    await turn('carol', 'beta', ['c', 'd']);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await provider?.close();
  });

  it('charts tokens per agent and per subject with the right totals', async () => {
    page = await browser.context.newPage();
    await page.goto(`${gateway.baseUrl}/usage#token=${gateway.token}`);
    await page.getByRole('link', { name: 'Usage' }).waitFor();
    const total = page.locator('[data-test=usage-total]');
    await total.waitFor();
    expect(await total.textContent()).toBe('37');

    const agents = page.locator('[data-test=usage-agents]');
    expect(await agents.locator('[data-agent=alpha] [data-test=total]').textContent()).toBe('24');
    expect(await agents.locator('[data-agent=beta] [data-test=total]').textContent()).toBe('13');
    const subjects = page.locator('[data-test=usage-subjects]');
    expect(await subjects.locator('[data-subject=test-user] [data-test=total]').textContent()).toBe(
      '24',
    );
    expect(await subjects.locator('[data-subject=carol] [data-test=total]').textContent()).toBe(
      '13',
    );

    // uPlot drew both charts (a canvas each), and their series hold this hour's tokens.
    const charts = page.locator('[data-test=time-chart]');
    await expect(charts.count()).resolves.toBe(2);
    await expect(page.locator('[data-test=time-chart] canvas').count()).resolves.toBe(2);
    const perAgent = charts.filter({ hasText: 'Tokens per agent' });
    expect(await perAgent.locator('[data-series=alpha]').textContent()).toBe('24 tokens');
    expect(await perAgent.locator('[data-series=beta]').textContent()).toBe('13 tokens');
    const perSubject = charts.filter({ hasText: 'Tokens per subject' });
    expect(await perSubject.locator('[data-series=carol]').textContent()).toBe('13 tokens');
    expect(Number(await perAgent.locator('table[data-points]').getAttribute('data-points'))).toBe(
      25,
    );
    await screenshot(page, 'usage');
  });

  it('updates after another turn when refreshed', async () => {
    await turn('carol', 'alpha', ['e']);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('[data-test=usage-total]', { hasText: '49' }).waitFor();
    expect(
      await page
        .locator('[data-test=usage-agents] [data-agent=alpha] [data-test=total]')
        .textContent(),
    ).toBe('36');
  });
});
