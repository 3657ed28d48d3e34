import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../support/auth-tokens.js';
import {
  browserSuiteRuns,
  launchBrowser,
  screenshot,
  type TestBrowser,
  signIn,
} from '../support/browser.js';
import {
  postRpc,
  rpcOver,
  startGateway,
  WsTestClient,
  type TestGateway,
} from '../support/gateway.js';
import { FakeOpenAiServer, streamChunks, textChunks } from '../support/openai-compatible-server.js';

// The functions given to page.evaluate run in the page; these names are the page's globals, typed
// here without pulling the DOM library into the Node project.
declare const document: {
  dispatchEvent(event: unknown): boolean;
};
declare class Event {
  constructor(type: string);
}

let provider: FakeOpenAiServer;
let gateway: TestGateway;
let browser: TestBrowser;
let context: BrowserContext;
let page: Page;
const cspViolations: string[] = [];
const { ok } = rpcOver(() => gateway);

/** A chart as its hidden table tells it: how many points, the latest second, the latest values. */
interface ChartState {
  points: number;
  latestTime: number;
  values: Record<string, string>;
}

async function chart(title: string): Promise<ChartState> {
  const figure = page.locator(`[data-test=time-chart][aria-label="${title}"]`);
  const table = figure.locator('table[data-points]');
  const cells = await table
    .locator('td[data-series]')
    .evaluateAll((tds) =>
      tds.map((td) => [td.getAttribute('data-series') ?? '', (td.textContent ?? '').trim()]),
    );
  return {
    points: Number(await table.getAttribute('data-points')),
    latestTime: Number(await table.getAttribute('data-latest-time')),
    values: Object.fromEntries(cells),
  };
}

/** The latest value of a series as a number (NaN for '–', nothing measured yet). */
async function latest(title: string, series: string): Promise<number> {
  return Number.parseFloat((await chart(title)).values[series]);
}

/**
 * Does `act` (a burst of traffic) and reads the chart again, until `done` holds: the chart shows
 * complete seconds, so what was done shows within a second or two.
 */
async function until(
  done: () => Promise<boolean>,
  act: () => Promise<unknown> = () => page.waitForTimeout(100),
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('the charts never showed it');
    await act();
  }
}

let bursts = 0;

/**
 * n calls at once, as `sub`: by default a subject of its own, so only a flood meets the limit
 * (and the dashboard's own token keeps its budget for the page).
 */
async function burst(n: number, sub = `caller-${++bursts}`): Promise<void> {
  const headers = {
    authorization: `Bearer ${await signToken({ sub, scope: 'agents:read' })}`,
  };
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      postRpc(
        gateway.baseUrl,
        { jsonrpc: '2.0', id: i, method: 'agent.list', params: {} },
        { headers },
      ),
    ),
  );
}

const TITLES = [
  'Calls per second',
  'Latency (p50 / p99)',
  'Errors and rate-limit rejections',
  'Open WebSockets',
  'Tokens per minute',
];

describe.skipIf(!browserSuiteRuns)('the Overview’s live charts, in a browser', () => {
  beforeAll(async () => {
    browser = await launchBrowser();
    context = browser.context;
    provider = await FakeOpenAiServer.start();
    gateway = await startGateway({
      agents: [provider.agent()],
      // Low enough for a flood of one subject to meet; each test's traffic comes from its own.
      rateLimit: { client: { limit: 200, ttl: 60_000 } },
    });
    page = await signIn(context, `${gateway.baseUrl}/`, gateway.token, cspViolations);
    await page.locator('[data-test=live-charts]').waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await provider?.close();
  });

  afterEach(() => {
    expect(cspViolations).toEqual([]);
  });

  it('draws the five charts, each on a canvas', async () => {
    const figures = page.locator('[data-test=live-charts] [data-test=time-chart]');
    expect(
      await figures.evaluateAll((nodes) => nodes.map((n) => n.getAttribute('aria-label'))),
    ).toEqual(TITLES);
    for (const title of TITLES) {
      const canvas = page.locator(`[data-test=time-chart][aria-label="${title}"] canvas`);
      expect(await canvas.count()).toBe(1);
      const box = await canvas.boundingBox();
      expect(box?.width).toBeGreaterThan(100);
      expect(box?.height).toBeGreaterThan(50);
    }
  });

  it('moves while calls are made: new points every second, calls and latency plotted', async () => {
    const before = await chart('Calls per second');
    await until(
      async () => (await latest('Calls per second', 'calls/s')) >= 20,
      () => burst(25),
    );
    const after = await chart('Calls per second');
    expect(after.points).toBeGreaterThan(before.points);
    expect(after.latestTime).toBeGreaterThan(before.latestTime);
    const latency = await chart('Latency (p50 / p99)');
    expect(Number.parseFloat(latency.values.p50)).toBeGreaterThan(0);
    expect(Number.parseFloat(latency.values.p99)).toBeGreaterThanOrEqual(
      Number.parseFloat(latency.values.p50),
    );
    expect(latency.values.p99).toMatch(/ ms$/);
    // Every chart shares the seconds.
    for (const title of TITLES) expect((await chart(title)).points).toBeGreaterThan(0);
    await screenshot(page, 'overview-charts');
  });

  it('plots rate-limit rejections apart from errors', async () => {
    await until(
      async () => (await latest('Errors and rate-limit rejections', 'rate-limited/s')) > 0,
      () => burst(50, 'flooder'),
    );
    expect(await latest('Errors and rate-limit rejections', 'errors/s')).toBe(0);
  });

  it('plots the WebSockets open, the dashboard’s own included', async () => {
    await until(async () => (await latest('Open WebSockets', 'open')) === 1);
    const clients = await Promise.all(
      [1, 2, 3].map(() => WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth })),
    );
    await until(async () => (await latest('Open WebSockets', 'open')) === 4);
    clients.forEach((client) => client.close());
    await Promise.all(clients.map((client) => client.closed));
    await until(async () => (await latest('Open WebSockets', 'open')) === 1);
  });

  it('plots the tokens of finished turns per minute', async () => {
    provider.next((_request, res) => streamChunks(res, textChunks('Hel', 'lo')));
    const { sessionKey } = await ok('session.create', { agentId: 'llm' });
    expect((await ok('session.message', { sessionKey, content: 'hi' })).content).toBe('Hello');
    // 11 prompt and 2 completion tokens, as the provider reported them.
    await until(async () => (await latest('Tokens per minute', 'tokens/min')) >= 13);
  });

  it('stops polling while the tab is hidden and catches up when it is shown', async () => {
    const seriesPolls: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/status/series')) seriesPolls.push(request.url());
    });
    const setVisibility = (state: 'hidden' | 'visible') =>
      page.evaluate((value) => {
        Object.defineProperty(document, 'visibilityState', { value, configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
      }, state);
    await setVisibility('hidden');
    // A poll already on its way may still land: count from the next status refresh on.
    await page.waitForRequest((request) => request.url().endsWith('/status'));
    const hiddenFrom = seriesPolls.length;
    const hiddenPoints = (await chart('Calls per second')).points;
    // The Overview's tiles refresh every 3 s: two refreshes are ample time for several polls.
    await page.waitForRequest((request) => request.url().endsWith('/status'));
    await page.waitForRequest((request) => request.url().endsWith('/status'));
    expect(seriesPolls.length).toBe(hiddenFrom);
    expect((await chart('Calls per second')).points).toBe(hiddenPoints);

    const shown = page.waitForRequest((request) => request.url().includes('/status/series?since='));
    await setVisibility('visible');
    await shown;
    await until(async () => (await chart('Calls per second')).points > hiddenPoints);
  });
});
