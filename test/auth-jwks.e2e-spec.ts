import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK } from 'jose';
import { mkdtempSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstRunAccess } from '../src/core/auth/auth.cli.js';
import { ConfigValidationError } from '../src/core/config/config-validation.error.js';
import { loadConfig } from '../src/core/config/config.loader.js';
import { announceFirstRun } from '../src/serve.js';
import { postRpc, startGateway, WsTestClient, type TestGateway } from './support/gateway.js';
import { AuthProbeModule } from './support/auth-probe.rpc.js';
import { recordingServer, signToken, TEST_SECRET } from './support/auth-tokens.js';

const whoami = { jsonrpc: '2.0', id: 1, method: 'probe.whoami', params: {} };
const now = (): number => Math.floor(Date.now() / 1000);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('JwtAuthGuard with a corporate identity provider (JWKS)', () => {
  let gateway: TestGateway;
  let idp: Awaited<ReturnType<typeof recordingServer>>;
  let published: JWK[] = [];
  const rsa = generateKeyPair('RS256', { extractable: true });
  const ec = generateKeyPair('ES256', { extractable: true });

  const idpToken = async (alg: 'RS256' | 'ES256', kid: string, claims = {}) =>
    new SignJWT({ roles: ['reader'], ...claims })
      .setProtectedHeader({ alg, kid })
      .setSubject('bob@corp')
      .setIssuedAt()
      .setExpirationTime(now() + 600)
      .setIssuer('https://idp.corp')
      .setAudience('openclaw')
      .sign((await (alg === 'RS256' ? rsa : ec)).privateKey);

  beforeAll(async () => {
    published = [
      { ...(await exportJWK((await rsa).publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    ];
    idp = await recordingServer(() => ({ status: 200, body: JSON.stringify({ keys: published }) }));
    gateway = await startGateway(
      {
        auth: {
          jwt: {
            secret: TEST_SECRET,
            jwksUrl: `${idp.url}/jwks.json`,
            issuer: 'https://idp.corp',
            audience: 'openclaw',
            scopeClaim: 'roles',
            roleScopes: { reader: ['sessions:read'], ops: ['admin'] },
          },
        },
      },
      { imports: [AuthProbeModule], auth: { jwks: { cooldownMs: 0 } } },
    );
  });
  afterAll(async () => {
    await gateway?.close();
    await idp?.close();
  });

  it('accepts the IdP token, maps its roles to scopes, and picks up a rotated key', async () => {
    const first = await postRpc(gateway.baseUrl, whoami, {
      headers: bearer(await idpToken('RS256', 'rsa-1')),
    });
    expect(first.body.result).toEqual({ subject: 'bob@corp', scopes: ['sessions:read'] });

    // The IdP rotates to an EC key mid-test: a token with the new kid must work at once.
    published = [
      { ...(await exportJWK((await ec).publicKey)), kid: 'ec-2', alg: 'ES256', use: 'sig' },
    ];
    const rotated = await idpToken('ES256', 'ec-2', { roles: ['ops'] });
    const second = await postRpc(gateway.baseUrl, whoami, { headers: bearer(rotated) });
    expect(second.body.result).toEqual({ subject: 'bob@corp', scopes: ['admin'] });
    const ws = await WsTestClient.connect(gateway.wsUrl, { headers: bearer(rotated) });
    expect((await ws.call('probe.whoami', {}, 1)).result.subject).toBe('bob@corp');
    ws.close();
    expect(idp.hits.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses an HS256 token signed with the public key, and keys from headers', async () => {
    const pem = await exportSPKI((await rsa).publicKey);
    const claims = { iss: 'https://idp.corp', aud: 'openclaw', scope: 'admin' };
    const confused = await signToken(claims, { key: new TextEncoder().encode(pem) });
    const confusedJwk = await signToken(claims, {
      key: new TextEncoder().encode(JSON.stringify(published[0])),
    });
    const trap = await recordingServer();
    try {
      const stranger = await generateKeyPair('RS256', { extractable: true });
      const strangerJwk = await exportJWK(stranger.publicKey);
      const withJku = await new SignJWT({ roles: ['ops'] })
        .setProtectedHeader({
          alg: 'RS256',
          kid: 'stranger',
          jku: `${trap.url}/jwks`,
          x5u: `${trap.url}/x5u`,
          jwk: strangerJwk,
        })
        .setSubject('mallory')
        .setIssuer('https://idp.corp')
        .setAudience('openclaw')
        .setExpirationTime(now() + 600)
        .sign(stranger.privateKey);
      for (const token of [confused, confusedJwk, withJku]) {
        const reply = await postRpc(gateway.baseUrl, whoami, { headers: bearer(token) });
        expect(reply.status).toBe(401);
        expect(reply.body.error.code).toBe(-32001);
        await expect(
          WsTestClient.connect(gateway.wsUrl, { headers: bearer(token) }),
        ).rejects.toThrow('upgrade refused: 401');
      }
      expect(trap.hits).toEqual([]);
    } finally {
      await trap.close();
    }
  });
});

describe('JWKS configuration that would trust too much', () => {
  it('refuses to boot without issuer and audience, or over plain http to another host', async () => {
    const jwt = { secret: TEST_SECRET, jwksUrl: 'http://127.0.0.1:9/jwks.json' };
    const boot = (extra: Record<string, string>) =>
      startGateway({ auth: { jwt: { ...jwt, ...extra } } }).then(
        async (gateway) => {
          await gateway.close();
          return undefined;
        },
        (err: unknown) => err,
      );
    const withoutAudience = await boot({ issuer: 'https://idp.corp' });
    expect(withoutAudience).toBeInstanceOf(ConfigValidationError);
    expect((withoutAudience as Error).message).toMatch(
      /auth\.jwt\.jwksUrl: needs auth\.jwt\.audience too/,
    );
    const overHttp = await boot({
      issuer: 'https://idp.corp',
      audience: 'openclaw',
      jwksUrl: 'http://idp.corp/jwks.json',
    });
    expect((overHttp as Error).message).toMatch(/auth\.jwt\.jwksUrl: must be an https:\/\/ URL/);
  });
});

describe('first run without a configured secret', () => {
  it('generates a 0600 secret beside the database and serves with it on loopback', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openclaw-first-run-'));
    const url = `sqlite:${join(dir, 'openclaw.db')}`;
    const gateway = await startGateway(
      { database: { url } },
      { imports: [AuthProbeModule], withoutSecret: true },
    );
    try {
      const path = join(dir, 'jwt-secret');
      expect(existsSync(path)).toBe(true);
      expect(statSync(path).mode & 0o777).toBe(0o600);

      const config = loadConfig({ env: {}, ignoreFile: true, overrides: { database: { url } } });
      const access = await firstRunAccess(config, { host: '127.0.0.1', port: 18789 });
      expect(access?.url).toMatch(/^http:\/\/127\.0\.0\.1:18789\/#token=[\w.-]+$/);
      expect(new URL(access!.url).search).toBe('');
      const reply = await postRpc(gateway.baseUrl, whoami, { headers: bearer(access!.token) });
      expect(reply.body.result.subject).toBe('admin');
    } finally {
      await gateway.close();
    }
  });

  it('refuses to start on a non-loopback host with a generated secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openclaw-first-run-'));
    await expect(
      startGateway(
        { gateway: { host: '0.0.0.0' }, database: { url: `sqlite:${join(dir, 'openclaw.db')}` } },
        { withoutSecret: true },
      ),
    ).rejects.toThrow(/refusing to serve on 0\.0\.0\.0 with a generated secret/);
    expect(existsSync(join(dir, 'jwt-secret'))).toBe(false);
  });

  it('prints the admin token on the start that creates the secret, and never again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openclaw-first-run-'));
    const url = `sqlite:${join(dir, 'openclaw.db')}`;
    const start = async () => {
      const gateway = await startGateway({ database: { url } }, { withoutSecret: true });
      const lines: string[] = [];
      try {
        expect(await announceFirstRun(gateway.app, (line) => lines.push(line))).toBe(
          lines.length > 0,
        );
      } finally {
        await gateway.close();
      }
      return lines.join('\n');
    };
    const first = await start();
    expect(first).toMatch(/Admin token \(12h\): [\w-]+\.[\w-]+\.[\w-]+/);
    expect(first).toMatch(/#token=/);
    // The secret now exists: later starts reuse it and print no credential into the logs.
    expect(await start()).toBe('');
    expect(await start()).toBe('');
  });
});
