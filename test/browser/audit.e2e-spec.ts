import type { BrowserContext, Page } from 'playwright-core';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OAuthClientService } from '../../src/core/auth/oauth-client.service.js';
import {
  browserSuiteRuns,
  launchBrowser,
  screenshot,
  type TestBrowser,
  signIn,
} from '../support/browser.js';
import { rpcOver, startGateway, type TestGateway } from '../support/gateway.js';

let gateway: TestGateway;
let browser: TestBrowser;
let context: BrowserContext;
let page: Page;
const cspViolations: string[] = [];
const { ok } = rpcOver(() => gateway);

describe.skipIf(!browserSuiteRuns)('the Audit view in a browser', () => {
  beforeAll(async () => {
    browser = await launchBrowser();
    context = browser.context;
    gateway = await startGateway();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('finds a token issuance by subject, and shows a session chain verified, then broken at the edited seq', async () => {
    // A client gets a token: the security log records the issuance under the client's id.
    const client = await gateway.app
      .get(OAuthClientService)
      .create({ name: 'nightly-report', scopes: ['sessions:read'] });
    const issued = await fetch(`${gateway.baseUrl}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: client.clientId,
        client_secret: client.clientSecret,
      }),
    });
    expect(issued.status).toBe(200);
    const { sessionKey } = (await ok('session.create', {})) as { sessionKey: string };
    await ok('session.message', { sessionKey, content: 'hello' });

    page = await signIn(context, `${gateway.baseUrl}/`, gateway.token, cspViolations);
    await page.getByRole('link', { name: 'Audit' }).click();
    expect(new URL(page.url()).pathname).toBe('/audit');

    // Records are written in the background: search until the issuance shows, alone (the
    // client's creation has no subject, so the filter leaves it out).
    await page.locator('#audit-subject').fill(client.clientId);
    const rows = page.locator('[data-test=audit-records] tbody tr');
    const deadline = Date.now() + 10_000;
    for (;;) {
      await page.locator('[data-test=audit-search] button[type=submit]').click();
      await page.locator('[data-test=audit-search] button[type=submit]:enabled').waitFor();
      const texts = await rows.allTextContents();
      if (texts.length === 1 && texts[0].includes('token.issued')) break;
      if (Date.now() > deadline)
        throw new Error(`the issuance never showed alone: ${texts.join(' | ')}`);
      await page.waitForTimeout(100);
    }
    expect(await rows.first().getAttribute('data-action')).toBe('token.issued');
    expect(await rows.first().textContent()).toContain(client.clientId);
    await screenshot(page, 'audit-search');

    // The session's chain: verified, then broken at the seq edited behind the gateway's back.
    await page.locator('#chain-session').fill(sessionKey);
    await page.getByRole('button', { name: 'Verify' }).click();
    const status = page.locator('[data-test=chain-status]');
    await status.filter({ hasText: 'verified' }).waitFor();
    expect(await status.textContent()).toMatch(/links intact/);
    await gateway.app
      .get(DataSource)
      .query(
        `UPDATE "session_events" SET "data" = '{"content":"edited"}' WHERE "session_key" = ? AND "seq" = 2`,
        [sessionKey],
      );
    await page.getByRole('button', { name: 'Verify' }).click();
    await status.filter({ hasText: 'broken at seq 2' }).waitFor();
    await screenshot(page, 'audit-chain-broken');
    expect(cspViolations).toEqual([]);
  });
});
