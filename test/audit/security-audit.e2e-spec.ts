import { DataSource } from 'typeorm';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';

import { SecurityAuditLog } from '../../src/core/audit/security-audit.log.js';
import { RefreshTokenService } from '../../src/core/auth/refresh-token.service.js';
import { OAuthClientService } from '../../src/core/auth/oauth-client.service.js';
import { buildDataSourceOptions } from '../../src/core/database/database-url.js';
import { signToken } from '../support/auth-tokens.js';
import { storageEngines } from '../support/databases.js';
import { postRpc, startGateway, type TestGateway } from '../support/gateway.js';

const engines = await storageEngines('security audit log');

const rpc = async (gateway: TestGateway, method: string, params: object, token = gateway.token) =>
  (
    await postRpc(
      gateway.baseUrl,
      { jsonrpc: '2.0', id: 1, method, params },
      {
        headers: { authorization: `Bearer ${token}` },
      },
    )
  ).body as { result?: any; error?: { code: number; message: string } };

/** Polls audit.search until a record matches (records are written in the background). */
async function awaitRecord(
  gateway: TestGateway,
  params: object,
  match: (record: any) => boolean,
): Promise<any> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { result } = await rpc(gateway, 'audit.search', params);
    const found = (result as any[] | undefined)?.find(match);
    if (found) return found;
    if (Date.now() > deadline)
      throw new Error(`no audit record matched: ${JSON.stringify(result)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function auditRows(url: string): Promise<Array<Record<string, any>>> {
  const dataSource = new DataSource(buildDataSourceOptions(url));
  await dataSource.initialize();
  try {
    return await dataSource.query(`SELECT * FROM "audit_events" ORDER BY "seq"`);
  } finally {
    await dataSource.destroy();
  }
}

describe.each(engines)('security audit log on $name', ({ url, skip }) => {
  describe.skipIf(skip)('', () => {
    it('records client creation, token issuance and admin calls, without secrets; audit.search finds them', async () => {
      const dbUrl = await url();
      const gateway = await startGateway({ database: { url: dbUrl } });
      try {
        const client = await gateway.app
          .get(OAuthClientService)
          .create({ name: 'reporting', scopes: ['sessions:read'] });
        const response = await fetch(`${gateway.baseUrl}/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            grant_type: 'client_credentials',
            client_id: client.clientId,
            client_secret: client.clientSecret,
          }),
        });
        const { access_token: accessToken } = (await response.json()) as { access_token: string };
        expect(response.status).toBe(200);

        const issued = await awaitRecord(
          gateway,
          { subject: client.clientId },
          (r) => r.action === 'token.issued',
        );
        expect(issued).toMatchObject({
          outcome: 'ok',
          target: client.clientId,
          ip: '127.0.0.1',
          count: 1,
          detail: { grant: 'client_credentials', scope: 'sessions:read' },
        });
        await awaitRecord(
          gateway,
          {},
          (r) => r.action === 'client.created' && r.target === client.clientId,
        );

        // An admin call that ran, and one refused for want of the scope.
        expect((await rpc(gateway, 'sessions.list', {})).result).toBeDefined();
        const reader = await signToken({ sub: 'mallory', scope: 'sessions:read' });
        expect((await rpc(gateway, 'sessions.list', {}, reader)).error?.code).toBe(-32003);
        await awaitRecord(
          gateway,
          { subject: 'test-user' },
          (r) =>
            r.action === 'rpc.admin_call' && r.target === 'sessions.list' && r.outcome === 'ok',
        );
        await awaitRecord(
          gateway,
          { subject: 'mallory' },
          (r) => r.action === 'rpc.admin_call' && r.outcome === 'denied',
        );
        // One record for the refusal, not a second one as a failed call.
        const mallory = (await rpc(gateway, 'audit.search', { subject: 'mallory' }))
          .result as any[];
        expect(mallory.map((r) => [r.action, r.outcome, r.target])).toEqual([
          ['rpc.admin_call', 'denied', 'sessions.list'],
        ]);

        // By session: the target, or the detail's sessionKey, literally (no LIKE wildcards).
        const audit = gateway.app.get(SecurityAuditLog);
        audit.record({
          action: 'tool.approval',
          outcome: 'ok',
          subject: 'bob',
          detail: { sessionKey: 'ses_a%_' },
        });
        audit.record({
          action: 'tool.approval',
          outcome: 'denied',
          subject: 'bob',
          detail: { sessionKey: 'ses_ab_x' },
        });
        audit.record({ action: 'tool.approval', outcome: 'ok', subject: 'bob', target: 'ses_a%_' });
        await audit.flush();
        const bySession = await rpc(gateway, 'audit.search', { sessionKey: 'ses_a%_' });
        expect(
          (bySession.result as any[]).map((r) => [r.target, r.detail?.sessionKey ?? null]),
        ).toEqual([
          ['ses_a%_', null],
          [null, 'ses_a%_'],
        ]);

        // Filters: time and session; the chain verifies.
        const future = new Date(Date.now() + 60_000).toISOString();
        expect((await rpc(gateway, 'audit.search', { since: future })).result).toEqual([]);
        const verified = await rpc(gateway, 'audit.verify', {});
        expect(verified.result).toMatchObject({ chain: 'security', ok: true });
        for (const bad of [
          { limit: 1000 },
          { subject: 'x'.repeat(256) },
          { since: 'yesterday' },
          { since: '2026-13-45' },
          { until: '2026-13-01T00:00:00Z; DROP TABLE' },
          { before: 0 },
          { sessionKey: '' },
        ]) {
          expect((await rpc(gateway, 'audit.search', bad)).error?.code, JSON.stringify(bad)).toBe(
            -32602,
          );
        }
        expect(
          (await rpc(gateway, 'audit.verify', { sessionKey: 'k'.repeat(129) })).error?.code,
        ).toBe(-32602);
        expect((await rpc(gateway, 'audit.search', {}, reader)).error?.code).toBe(-32003);

        const everything = JSON.stringify(await rpc(gateway, 'audit.search', { limit: 200 }));
        expect(everything).not.toContain(client.clientSecret);
        expect(everything).not.toContain(accessToken);
        expect(everything).not.toContain(gateway.token);
      } finally {
        await gateway.close();
      }
    });

    it('records a refresh family revoked on replay, and never the refresh token', async () => {
      const gateway = await startGateway({ database: { url: await url() } });
      try {
        const client = await gateway.app
          .get(OAuthClientService)
          .create({ name: 'rotating', scopes: ['agents:read'] });
        const stolen = await gateway.app
          .get(RefreshTokenService)
          .issue({ clientId: client.clientId, subject: 'carol', scopes: ['agents:read'] });
        const rotate = () =>
          fetch(`${gateway.baseUrl}/auth/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              grant_type: 'refresh_token',
              refresh_token: stolen,
              client_id: client.clientId,
              client_secret: client.clientSecret,
            }),
          });
        const first = await rotate();
        const successor = ((await first.json()) as { refresh_token: string }).refresh_token;
        expect((await rotate()).status).toBe(400);
        await gateway.app.get(SecurityAuditLog).flush();
        const records = (await rpc(gateway, 'audit.search', { subject: 'carol' })).result as any[];
        expect(records.map((r) => [r.action, r.outcome, r.target])).toEqual([
          ['token.family_revoked', 'ok', client.clientId],
          ['token.issued', 'ok', client.clientId],
        ]);
        expect(records[0].detail.reason).toBe('a used refresh token was presented again');
        expect(records[1].detail).toEqual({ grant: 'refresh_token', scope: 'agents:read' });
        const everything = JSON.stringify(await rpc(gateway, 'audit.search', { limit: 200 }));
        expect(everything).toContain('"error":"invalid_grant"');
        expect(everything).not.toContain(stolen);
        expect(everything).not.toContain(successor);
      } finally {
        await gateway.close();
      }
    });

    it('turns a bad-token flood into a bounded number of records, counting every failure', async () => {
      const dbUrl = await url();
      const gateway = await startGateway({ database: { url: dbUrl } });
      const http = 300;
      const ws = 20;
      try {
        for (let round = 0; round < http / 50; round++) {
          const replies = await Promise.all(
            Array.from({ length: 50 }, (_, i) =>
              postRpc(
                gateway.baseUrl,
                { jsonrpc: '2.0', id: i, method: 'agents.list' },
                {
                  headers: { authorization: `Bearer not-a-token-${round}-${i}` },
                },
              ),
            ),
          );
          expect(replies.every((reply) => reply.status === 401)).toBe(true);
        }
        for (let i = 0; i < ws; i++) {
          const socket = new WebSocket(gateway.wsUrl, {
            headers: { authorization: 'Bearer nope' },
          });
          const status = await new Promise<number>((resolve) => {
            socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
            socket.once('open', () => resolve(101));
          });
          expect(status).toBe(401);
        }
      } finally {
        await gateway.close(); // flushes the aggregates
      }
      const failures = (await auditRows(dbUrl)).filter((row) => row.action === 'auth.failed');
      // One record per address and minute: a minute boundary may split the run in two.
      expect(failures.length).toBeGreaterThanOrEqual(1);
      expect(failures.length).toBeLessThanOrEqual(2);
      expect(failures.reduce((sum, row) => sum + Number(row.count), 0)).toBe(http + ws);
      expect(failures[0]).toMatchObject({ outcome: 'denied', ip: '127.0.0.1' });
    });

    it('verifies a session chain over audit.verify, and answers -32004 for an unknown session', async () => {
      const gateway = await startGateway({ database: { url: await url() } });
      try {
        const { result } = await rpc(gateway, 'session.create', {});
        await rpc(gateway, 'session.message', { sessionKey: result.sessionKey, content: 'hello' });
        const verified = await rpc(gateway, 'audit.verify', { sessionKey: result.sessionKey });
        expect(verified.result).toMatchObject({ chain: result.sessionKey, ok: true });
        expect(verified.result.links).toBeGreaterThanOrEqual(3);
        expect(
          (await rpc(gateway, 'audit.verify', { sessionKey: 'ses_missing' })).error?.code,
        ).toBe(-32004);
        // An admin call that ran and failed is recorded with its error code.
        const failed = await awaitRecord(
          gateway,
          { subject: 'test-user' },
          (r) => r.action === 'rpc.admin_call' && r.outcome === 'failed',
        );
        expect(failed).toMatchObject({ target: 'audit.verify', detail: { code: -32004 } });
      } finally {
        await gateway.close();
      }
    });
  });
});
