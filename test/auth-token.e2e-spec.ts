import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../src/core/database/database-url.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeClient } from '../src/core/auth/auth.cli.js';
import { OAuthClientService } from '../src/core/auth/oauth-client.service.js';
import { RefreshTokenService } from '../src/core/auth/refresh-token.service.js';
import { CLIENT_STATUS_TTL_MS } from '../src/core/auth/revoked-clients.js';
import { CLIENT_FAILURE_LIMIT } from '../src/core/auth/client-auth-failures.js';
import { loadConfig } from '../src/core/config/config.loader.js';
import { postRpc, startGateway, type TestGateway } from './support/gateway.js';
import { AuthProbeModule } from './support/auth-probe.rpc.js';
import { sqliteUrl } from './support/databases.js';
import { TEST_SECRET } from './support/auth-tokens.js';

const ENCRYPTION_KEY = 'an-encryption-key-of-at-least-32-bytes';
const whoami = { jsonrpc: '2.0', id: 1, method: 'probe.whoami', params: {} };

describe('POST /auth/token', () => {
  let gateway: TestGateway;
  let databaseUrl: string;
  let client: { clientId: string; clientSecret: string };
  const issued: string[] = [];

  async function token(
    body: Record<string, string>,
    form = false,
    headers: Record<string, string> = {},
  ) {
    const response = await fetch(`${gateway.baseUrl}/auth/token`, {
      method: 'POST',
      headers: {
        'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
        ...headers,
      },
      body: form ? new URLSearchParams(body).toString() : JSON.stringify(body),
    });
    const json = (await response.json()) as any;
    if (json.access_token) issued.push(json.access_token);
    if (json.refresh_token) issued.push(json.refresh_token);
    return { status: response.status, headers: response.headers, body: json };
  }

  const credentials = () => ({ client_id: client.clientId, client_secret: client.clientSecret });
  const refresh = (refreshToken: string) =>
    token({ grant_type: 'refresh_token', refresh_token: refreshToken, ...credentials() });
  /**
   * A new refresh-token family for the reader client. No grant of the endpoint issues one today
   * (client_credentials must not, RFC 6749 §4.4.3); the rotation is served all the same.
   */
  const newFamily = async (clientId = client.clientId) => {
    const refreshToken = await gateway.app
      .get(RefreshTokenService)
      .issue({ clientId, subject: clientId, scopes: ['sessions:read', 'agents:read'] });
    issued.push(refreshToken);
    return refreshToken;
  };
  const whoamiWith = (accessToken: string) =>
    postRpc(gateway.baseUrl, whoami, { headers: { authorization: `Bearer ${accessToken}` } });

  beforeAll(async () => {
    databaseUrl = sqliteUrl();
    gateway = await startGateway(
      {
        database: { url: databaseUrl },
        auth: { jwt: { secret: TEST_SECRET }, encryptionKey: ENCRYPTION_KEY },
      },
      { imports: [AuthProbeModule] },
    );
    client = await gateway.app
      .get(OAuthClientService)
      .create({ name: 'reader', scopes: ['sessions:read', 'agents:read'] });
  });
  afterAll(() => gateway?.close());

  it('issues an access token and no refresh token for client_credentials, as JSON or as a form', async () => {
    for (const form of [false, true]) {
      const reply = await token({ grant_type: 'client_credentials', ...credentials() }, form);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      expect(reply.body).toMatchObject({
        token_type: 'Bearer',
        expires_in: 3600,
        scope: 'sessions:read agents:read',
      });
      expect(reply.body).not.toHaveProperty('refresh_token');
      const call = await postRpc(gateway.baseUrl, whoami, {
        headers: { authorization: `Bearer ${reply.body.access_token}` },
      });
      expect(call.body.result).toEqual({
        subject: client.clientId,
        scopes: ['agents:read', 'sessions:read'],
      });
    }
  });

  it('accepts client_secret_basic and narrows scopes on request, never widening them', async () => {
    const basic = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64');
    const narrowed = await token({ grant_type: 'client_credentials', scope: 'agents:read' }, true, {
      authorization: `Basic ${basic}`,
    });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('agents:read');
    const wider = await token({
      grant_type: 'client_credentials',
      scope: 'sessions:read admin',
      ...credentials(),
    });
    expect(wider.status).toBe(400);
    expect(wider.body.error).toBe('invalid_scope');
  });

  it('answers OAuth errors for bad clients, grants and requests', async () => {
    const wrongSecret = await token({
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: 'nope',
    });
    expect([wrongSecret.status, wrongSecret.body.error]).toEqual([401, 'invalid_client']);
    const unknown = await token({
      grant_type: 'client_credentials',
      client_id: 'ocl_unknown',
      client_secret: 'nope',
    });
    expect([unknown.status, unknown.body.error]).toEqual([401, 'invalid_client']);
    const badBasic = await token({ grant_type: 'client_credentials' }, false, {
      authorization: 'Basic bm9wZTpub3Bl',
    });
    expect(badBasic.status).toBe(401);
    expect(badBasic.headers.get('www-authenticate')).toMatch(/^Basic/);
    const unsupported = await token({ grant_type: 'password', ...credentials() });
    expect([unsupported.status, unsupported.body.error]).toEqual([400, 'unsupported_grant_type']);
    const missing = await token({ ...credentials() });
    expect([missing.status, missing.body.error]).toEqual([400, 'invalid_request']);
    const noRefresh = await token({ grant_type: 'refresh_token', ...credentials() });
    expect([noRefresh.status, noRefresh.body.error]).toEqual([400, 'invalid_request']);
    const badRefresh = await refresh('ocr_not-a-real-token');
    expect([badRefresh.status, badRefresh.body.error]).toEqual([400, 'invalid_grant']);
  });

  it('rotates the refresh token on every use', async () => {
    const first = await newFamily();
    const second = await refresh(first);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).toMatch(/^ocr_[\w-]{43}$/);
    expect(second.body.refresh_token).not.toBe(first);
    expect(second.body.scope).toBe('sessions:read agents:read');
    const third = await refresh(second.body.refresh_token);
    expect(third.status).toBe(200);
    const call = await postRpc(gateway.baseUrl, whoami, {
      headers: { authorization: `Bearer ${third.body.access_token}` },
    });
    expect(call.body.result.subject).toBe(client.clientId);
  });

  it('revokes the whole family when a used refresh token is presented again', async () => {
    const first = await newFamily();
    const second = await refresh(first);
    expect(second.status).toBe(200);
    const replay = await refresh(first);
    expect([replay.status, replay.body.error]).toEqual([400, 'invalid_grant']);
    const successor = await refresh(second.body.refresh_token);
    expect([successor.status, successor.body.error]).toEqual([400, 'invalid_grant']);
  });

  it('lets at most one of two parallel refreshes with one token win', async () => {
    for (let round = 0; round < 5; round++) {
      const first = await newFamily();
      const replies = await Promise.all([refresh(first), refresh(first)]);
      const winners = replies.filter((r) => r.status === 200);
      expect(winners.length).toBeLessThanOrEqual(1);
      expect(
        replies.filter((r) => r.status !== 200).every((r) => r.body.error === 'invalid_grant'),
      ).toBe(true);
    }
  });

  it('refuses a refresh token presented by another client', async () => {
    const other = await gateway.app
      .get(OAuthClientService)
      .create({ name: 'other', scopes: ['agents:read'] });
    const first = await newFamily();
    const stolen = await token({
      grant_type: 'refresh_token',
      refresh_token: first,
      client_id: other.clientId,
      client_secret: other.clientSecret,
    });
    expect([stolen.status, stolen.body.error]).toEqual([400, 'invalid_grant']);
  });

  it('refuses a revoked client, its refresh tokens and its outstanding access tokens', async () => {
    const service = gateway.app.get(OAuthClientService);
    const doomed = await service.create({ name: 'doomed', scopes: ['agents:read'] });
    const creds = { client_id: doomed.clientId, client_secret: doomed.clientSecret };
    const first = await token({ grant_type: 'client_credentials', ...creds });
    expect(first.status).toBe(200);
    const refreshToken = await gateway.app
      .get(RefreshTokenService)
      .issue({ clientId: doomed.clientId, subject: doomed.clientId, scopes: ['agents:read'] });
    // Verified once, so the token sits in the verifier's cache when the client is revoked.
    expect((await whoamiWith(first.body.access_token)).status).toBe(200);

    expect(await service.revoke(doomed.clientId)).toBe(true);
    const call = await whoamiWith(first.body.access_token);
    expect([call.status, call.body.error.code]).toEqual([401, -32001]);
    expect((await token({ grant_type: 'client_credentials', ...creds })).status).toBe(401);
    const refreshed = await token({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      ...creds,
    });
    expect(refreshed.status).toBe(401);
    const listed = await service.list();
    expect(listed.find((c) => c.clientId === doomed.clientId)?.revokedAt).toBeTruthy();
    // Tokens of other clients are untouched.
    const other = await token({ grant_type: 'client_credentials', ...credentials() });
    expect((await whoamiWith(other.body.access_token)).status).toBe(200);
  });

  it('stops access tokens on every instance when `clients revoke` runs elsewhere', async () => {
    const doomed = await gateway.app
      .get(OAuthClientService)
      .create({ name: 'revoked-by-cli', scopes: ['agents:read'] });
    const issuedToken = await token({
      grant_type: 'client_credentials',
      client_id: doomed.clientId,
      client_secret: doomed.clientSecret,
    });
    expect((await whoamiWith(issuedToken.body.access_token)).status).toBe(200);

    // The CLI opens the database itself: the gateway learns of it from there, within seconds.
    const cliConfig = loadConfig({
      env: {},
      ignoreFile: true,
      overrides: { database: { url: databaseUrl }, auth: { jwt: { secret: TEST_SECRET } } },
    });
    expect(await revokeClient(cliConfig, doomed.clientId)).toBe(true);
    const revokedAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - revokedAt < 15_000) {
      status = (await whoamiWith(issuedToken.body.access_token)).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThan(CLIENT_STATUS_TTL_MS + 2_000);
  });

  it('leaves no usable token or secret in a dump of the database', async () => {
    const dir = dirname(databaseUrl.slice('sqlite:'.length));
    const files = readdirSync(dir)
      .map((name) => join(dir, name))
      .filter((path) => statSync(path).isFile() && !path.endsWith('jwt-secret'));
    const bytes = Buffer.concat(files.map((path) => readFileSync(path)));
    const secrets = [...issued, client.clientSecret, TEST_SECRET, ENCRYPTION_KEY];
    expect(issued.length).toBeGreaterThan(10);
    for (const secret of secrets) {
      expect(bytes.includes(Buffer.from(secret)), secret.slice(0, 12)).toBe(false);
      // Nor any long enough piece of it.
      expect(bytes.includes(Buffer.from(secret.slice(4, 28))), secret.slice(0, 12)).toBe(false);
    }

    const db = new DataSource(buildDataSourceOptions(databaseUrl, { migrationsRun: false }));
    await db.initialize();
    try {
      const rows: Array<Record<string, unknown>> = [
        ...(await db.query('SELECT * FROM refresh_tokens')),
        ...(await db.query('SELECT * FROM oauth_clients')),
      ];
      const text = JSON.stringify(rows);
      for (const secret of secrets) expect(text.includes(secret)).toBe(false);
      const tokenRow = rows.find((r) => 'lookup_hash' in r);
      expect(tokenRow?.lookup_hash).toMatch(/^[0-9a-f]{64}$/);
      // Only the keyed hash: no copy of the token, even encrypted.
      expect(Object.keys(tokenRow ?? {})).not.toContain('token_ciphertext');
      const clientRow = rows.find((r) => r.client_id === client.clientId && 'secret_hash' in r);
      expect(clientRow?.secret_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    } finally {
      await db.destroy();
    }
  });
});

describe('POST /auth/token under attack', () => {
  it('counts failed secrets per client and address: a third party locks out only itself', async () => {
    // The proxy in front of the gateway names each client's address.
    const gateway = await startGateway({ gateway: { trustedProxies: ['127.0.0.1'] } });
    try {
      const clients = gateway.app.get(OAuthClientService);
      const victim = await clients.create({ name: 'victim', scopes: ['agents:read'] });
      const attempt = (from: string, secret: string) =>
        fetch(`${gateway.baseUrl}/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
          body: JSON.stringify({
            grant_type: 'client_credentials',
            client_id: victim.clientId,
            client_secret: secret,
          }),
        });
      const attacker = '203.0.113.7';
      const home = '198.51.100.9';

      // Successes are never counted: a client may fetch tokens as often as it likes.
      for (let i = 0; i < CLIENT_FAILURE_LIMIT + 5; i++) {
        expect((await attempt(home, victim.clientSecret)).status).toBe(200);
      }
      for (let i = 0; i < CLIENT_FAILURE_LIMIT; i++) {
        expect((await attempt(attacker, `guess-${i}`)).status).toBe(401);
      }
      const blocked = await attempt(attacker, 'one-more-guess');
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await blocked.json()) as any).error).toBe('invalid_client');

      // The client itself, from its own address, still gets its token, and a mistake there is
      // an ordinary 401: the attacker's failures were not counted against it.
      expect((await attempt(home, victim.clientSecret)).status).toBe(200);
      expect((await attempt(home, 'typo')).status).toBe(401);
      expect((await attempt(home, victim.clientSecret)).status).toBe(200);
    } finally {
      await gateway.close();
    }
  });
});
