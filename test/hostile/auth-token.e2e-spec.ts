import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_FAILURE_LIMIT } from '../../src/core/auth/client-auth-failures.js';
import {
  CLIENT_SECRET_HASH_CONCURRENCY,
  CLIENT_SECRET_HASH_QUEUE,
  hashingGate,
} from '../../src/core/auth/client-secret.hasher.js';
import { OAuthClientService } from '../../src/core/auth/oauth-client.service.js';
import { MemoryRateLimitStore } from '../../src/core/rate-limit/memory-rate-limit.store.js';
import { RATE_LIMIT_STORE } from '../../src/core/rate-limit/rate-limit.store.js';
import { AuthProbeModule } from '../support/auth-probe.rpc.js';
import { recordingServer, TEST_SECRET } from '../support/auth-tokens.js';
import { postRpc, startGateway, type TestGateway } from '../support/gateway.js';

/**
 * Attacks on the token endpoint and on the way tokens become scopes: megabyte client ids, forms
 * with thousands of fields, floods of wrong secrets that would saturate scrypt, a third party
 * trying to lock a client out, and identity-provider roles named after Object.prototype. The
 * per-IP limit on /auth/token is lifted here (the test gateway's limits are high), so what holds
 * is the endpoint's own defence.
 */

const MB = 1024 * 1024;
/** Just under the 1 MiB body limit, so the request reaches the endpoint. */
const NEARLY_MB = MB - 4096;

function heapUsed(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

interface TokenReply {
  status: number;
  retryAfter: string | null;
  error?: string;
}

describe('hostile clients of POST /auth/token', () => {
  let gateway: TestGateway;
  let good: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    // A proxy in front of the gateway names each client's address (X-Forwarded-For).
    gateway = await startGateway({ gateway: { trustedProxies: ['127.0.0.1'] } });
    good = await gateway.app
      .get(OAuthClientService)
      .create({ name: 'good', scopes: ['agents:read'] });
  });
  afterAll(() => gateway?.close());

  async function tokenRequest(
    body: string | Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<TokenReply> {
    const form = typeof body === 'string';
    const response = await fetch(`${gateway.baseUrl}/auth/token`, {
      method: 'POST',
      headers: {
        'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
        ...headers,
      },
      body: form ? body : JSON.stringify(body),
    });
    const json = (await response.json()) as { error?: string };
    return { status: response.status, retryAfter: response.headers.get('retry-after'), ...json };
  }

  const goodCredentials = () => ({
    grant_type: 'client_credentials',
    client_id: good.clientId,
    client_secret: good.clientSecret,
  });
  const storeKeys = () => gateway.app.get<symbol, MemoryRateLimitStore>(RATE_LIMIT_STORE).size;

  it('refuses 300 one-megabyte client ids without keeping them, querying or hashing', async () => {
    const keysBefore = storeKeys();
    const hashesBefore = hashingGate.admitted;
    const heapBefore = heapUsed();
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    for (let round = 0; round < 30; round++) {
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          tokenRequest({
            grant_type: 'client_credentials',
            client_id: `ocl_${String(round * 10 + i).padStart(4, '0')}${'x'.repeat(NEARLY_MB)}`,
            client_secret: 'irrelevant',
          }),
        ),
      );
      for (const reply of replies) expect(reply.status).toBe(400);
    }
    const elapsed = Date.now() - started;
    // Refused by its size, before any count: the rate-limit store holds no key per client id
    // (at most the per-address throttle's one key for this endpoint).
    expect(storeKeys() - keysBefore).toBeLessThanOrEqual(1);
    // 300 MB went through; before the fix the ids stayed as rate-limit keys for a minute
    // (+766 MB RSS). What the heap keeps must be small; RSS, which also holds this test's own
    // client buffers and what the allocator has not returned yet, stays well under the old growth.
    expect(heapUsed() - heapBefore).toBeLessThan(32 * MB);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(400 * MB);
    // Nor any scrypt (each would cost 32 MiB and tens of milliseconds), nor much time.
    expect(hashingGate.admitted - hashesBefore).toBe(0);
    expect(elapsed).toBeLessThan(20_000);
  });

  it('refuses forms with thousands of fields or oversize values, and odd client ids, cheaply', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => `f${i}=v`).join('&');
    const manyFields = await tokenRequest(`grant_type=client_credentials&${many}`);
    expect([manyFields.status, manyFields.error]).toEqual([400, 'invalid_request']);

    const longSecret = await tokenRequest({
      ...goodCredentials(),
      client_secret: 'y'.repeat(NEARLY_MB),
    });
    expect([longSecret.status, longSecret.error]).toEqual([400, 'invalid_request']);
    const longScope = await tokenRequest({ ...goodCredentials(), scope: 'a '.repeat(10_000) });
    expect([longScope.status, longScope.error]).toEqual([400, 'invalid_request']);

    // Shapes no client id can have (too long for the column, control characters): 401 at once.
    const keysBefore = storeKeys();
    const hashesBefore = hashingGate.admitted;
    const started = Date.now();
    for (const clientId of ['c'.repeat(65), 'ocl_\u0000nul', 'ocl_\nnewline', 'ocl_é']) {
      const reply = await tokenRequest({ ...goodCredentials(), client_id: clientId });
      expect([reply.status, reply.error]).toEqual([401, 'invalid_client']);
    }
    const basic = Buffer.from(`${'b'.repeat(4000)}:secret`).toString('base64');
    const oversizeBasic = await tokenRequest(
      { grant_type: 'client_credentials' },
      { authorization: `Basic ${basic}` },
    );
    expect(oversizeBasic.status).toBe(401);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(storeKeys() - keysBefore).toBe(0);
    expect(hashingGate.admitted - hashesBefore).toBe(0);

    // Fields named after Object.prototype members are ignored; `__proto__` is refused (400) by
    // the body parser itself.
    const credentials = `client_id=${good.clientId}&client_secret=${good.clientSecret}`;
    const proto = await tokenRequest(
      `constructor=y&toString=z&hasOwnProperty=w&grant_type=client_credentials&${credentials}`,
    );
    expect(proto.status).toBe(200);
    const protoKey = await tokenRequest(`__proto__=x&grant_type=client_credentials&${credentials}`);
    expect(protoKey.status).toBe(400);
  });

  it('refuses a burst of 300 wrong secrets in bounded memory, and the good client still gets its token', async () => {
    const heapBefore = heapUsed();
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    // Each guess from its own address, so no per-address lock helps: only the scrypt gate does.
    const burst = Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        tokenRequest(
          { ...goodCredentials(), client_secret: `guess-${i}` },
          { 'x-forwarded-for': `10.1.${i >> 8}.${i & 255}` },
        ),
      ),
    );
    // The good client asks in the middle of the burst, and again after a refusal's Retry-After.
    let goodReply = await tokenRequest(goodCredentials(), { 'x-forwarded-for': '192.0.2.10' });
    while (goodReply.status === 503 && Date.now() - started < 20_000) {
      await new Promise((resolve) => setTimeout(resolve, Number(goodReply.retryAfter) * 1000));
      goodReply = await tokenRequest(goodCredentials(), { 'x-forwarded-for': '192.0.2.10' });
    }
    expect(goodReply.status).toBe(200);

    const replies = await burst;
    const checked = replies.filter((r) => r.status === 401).length;
    const busy = replies.filter((r) => r.status === 503);
    expect(checked + busy.length).toBe(300);
    // Beyond what scrypt can take (two hashing, a short line), guesses are refused at once
    // with a Retry-After instead of queueing 300 × 32 MiB of scrypt.
    expect(busy.length).toBeGreaterThanOrEqual(
      300 - 2 * (CLIENT_SECRET_HASH_CONCURRENCY + CLIENT_SECRET_HASH_QUEUE),
    );
    expect(busy.every((r) => r.error === 'temporarily_unavailable' && r.retryAfter === '1')).toBe(
      true,
    );
    expect(heapUsed() - heapBefore).toBeLessThan(32 * MB);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * MB);
    expect(Date.now() - started).toBeLessThan(30_000);

    // Once the burst is over, the good client is served at once.
    expect((await tokenRequest(goodCredentials())).status).toBe(200);
  });

  it('lets a third party lock out only itself, refusing it without hashing once over the limit', async () => {
    const victim = await gateway.app
      .get(OAuthClientService)
      .create({ name: 'victim', scopes: ['agents:read'] });
    const attempt = (from: string, secret: string) =>
      tokenRequest(
        { grant_type: 'client_credentials', client_id: victim.clientId, client_secret: secret },
        { 'x-forwarded-for': from },
      );
    // Three attacker addresses, each past the limit.
    for (const attacker of ['203.0.113.1', '203.0.113.2', '2001:db8::1']) {
      for (let i = 0; i <= CLIENT_FAILURE_LIMIT; i++) await attempt(attacker, `guess-${i}`);
    }
    const started = Date.now();
    const hashesBefore = hashingGate.admitted;
    const locked = await Promise.all(
      Array.from({ length: 200 }, (_, i) => attempt('203.0.113.1', `more-${i}`)),
    );
    expect(locked.every((r) => r.status === 429 && Number(r.retryAfter) > 0)).toBe(true);
    // 200 refusals with no scrypt behind them (200 hashes, two at a time, take ten seconds).
    expect(hashingGate.admitted - hashesBefore).toBe(0);
    expect(Date.now() - started).toBeLessThan(3_000);
    // Another host of the attacker's IPv6 /64 is the same client address.
    expect((await attempt('2001:db8::2', 'guess')).status).toBe(429);

    // The victim, from its own address, is served as if nothing happened.
    expect((await attempt('198.51.100.20', victim.clientSecret)).status).toBe(200);
  });
});

describe('identity-provider roles named after Object.prototype', () => {
  let gateway: TestGateway;
  let idp: Awaited<ReturnType<typeof recordingServer>>;
  const keys = generateKeyPair('RS256', { extractable: true });

  beforeAll(async () => {
    const jwk = { ...(await exportJWK((await keys).publicKey)), kid: 'k1', alg: 'RS256' };
    idp = await recordingServer(() => ({ status: 200, body: JSON.stringify({ keys: [jwk] }) }));
    gateway = await startGateway(
      {
        auth: {
          jwt: {
            secret: TEST_SECRET,
            jwksUrl: `${idp.url}/jwks.json`,
            issuer: 'https://idp.corp',
            audience: 'openclaw',
            scopeClaim: 'roles',
            roleScopes: { reader: ['sessions:read'] },
          },
        },
      },
      { imports: [AuthProbeModule] },
    );
  });
  afterAll(async () => {
    await gateway?.close();
    await idp?.close();
  });

  const idpToken = async (roles: unknown) =>
    new SignJWT({ roles })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('mallory@corp')
      .setIssuedAt()
      .setExpirationTime('10m')
      .setIssuer('https://idp.corp')
      .setAudience('openclaw')
      .sign((await keys).privateKey);
  const whoami = async (roles: unknown) =>
    postRpc(
      gateway.baseUrl,
      { jsonrpc: '2.0', id: 1, method: 'probe.whoami', params: {} },
      { headers: { authorization: `Bearer ${await idpToken(roles)}` } },
    );

  it('grants nothing for constructor, __proto__ or toString, and never answers 500', async () => {
    for (const roles of [
      ['constructor'],
      ['__proto__'],
      ['toString'],
      ['hasOwnProperty', 'valueOf', '__defineGetter__'],
      'constructor __proto__',
    ]) {
      const reply = await whoami(roles);
      expect(reply.status).not.toBe(500);
      expect(reply.body.error.code).toBe(-32003);
    }
    // Beside a real role they change nothing either.
    const mixed = await whoami(['toString', 'reader', 'constructor']);
    expect(mixed.body.result).toEqual({ subject: 'mallory@corp', scopes: ['sessions:read'] });
  });
});
