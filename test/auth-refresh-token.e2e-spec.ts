import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthClientService } from '../src/core/auth/oauth-client.service.js';
import { RefreshTokenService } from '../src/core/auth/refresh-token.service.js';
import { startGateway, type TestGateway } from './support/gateway.js';

// No grant of /auth/token issues a refresh token today (client_credentials must not, RFC 6749
// §4.4.3), so families start from RefreshTokenService; the endpoint rotates them.

describe('refresh-token lifetime', () => {
  let gateway: TestGateway;
  let client: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    // A family lives 3 s at most, however often it rotates.
    gateway = await startGateway({ auth: { jwt: { refreshFamilyTtl: '3s' } } });
    client = await gateway.app
      .get(OAuthClientService)
      .create({ name: 'rotating', scopes: ['agents:read'] });
  });
  afterAll(() => gateway?.close());

  const issue = () =>
    gateway.app
      .get(RefreshTokenService)
      .issue({ clientId: client.clientId, subject: client.clientId, scopes: ['agents:read'] });
  const rotate = async (refreshToken: string) => {
    const response = await fetch(`${gateway.baseUrl}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: client.clientId,
        client_secret: client.clientSecret,
      }),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const rows = () =>
    gateway.app
      .get(DataSource)
      .query<Array<Record<string, string | null>>>(
        `SELECT used_at, revoked_at, expires_at, family_expires_at FROM refresh_tokens`,
      );

  it('ends a family at its absolute lifetime, however often it rotates', async () => {
    const issuedAt = Date.now();
    let current = await issue();
    let refusedAt: number | undefined;
    while (refusedAt === undefined && Date.now() - issuedAt < 10_000) {
      const reply = await rotate(current);
      if (reply.status === 200) current = reply.body.refresh_token;
      else {
        expect(reply.body.error).toBe('invalid_grant');
        refusedAt = Date.now();
      }
    }
    expect(refusedAt).toBeDefined();
    expect(refusedAt! - issuedAt).toBeGreaterThanOrEqual(2_900);
    expect(refusedAt! - issuedAt).toBeLessThan(6_000);
    // No successor was ever given more time than its family had.
    for (const row of await rows()) expect(row.expires_at! <= row.family_expires_at!).toBe(true);
    await gateway.app.get(RefreshTokenService).purge(new Date(Date.now() + 86_400_000));
  });

  it('purges revoked and expired refresh tokens, keeping used ones until they expire', async () => {
    const service = gateway.app.get(RefreshTokenService);

    // A stolen family: its first token replayed, both of its tokens revoked.
    const stolen = await issue();
    expect((await rotate(stolen)).status).toBe(200);
    expect((await rotate(stolen)).status).toBe(400);
    // A healthy family: one used token and its live successor.
    const healthy = await issue();
    const successor = (await rotate(healthy)).body.refresh_token as string;
    expect(await rows()).toHaveLength(4);

    await service.purge();
    const left = await rows();
    expect(left).toHaveLength(2);
    expect(left.every((row) => row.revoked_at === null)).toBe(true);
    // The used token is kept: presenting it again must still revoke the family.
    expect(left.filter((row) => row.used_at !== null)).toHaveLength(1);

    // Past their expiry, the rest goes too, and the successor no longer works.
    await service.purge(new Date(Date.now() + 31 * 86_400_000));
    expect(await rows()).toHaveLength(0);
    expect((await rotate(successor)).body.error).toBe('invalid_grant');
  });
});
