import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postRpc, startGateway, WsTestClient, type TestGateway } from './support/gateway.js';
import { CalculatorModule } from './support/calculator.rpc.js';
import { AuthProbeModule } from './support/auth-probe.rpc.js';
import { recordingServer, signToken, TEST_SECRET, unsignedToken } from './support/auth-tokens.js';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'openclaw';
const now = (): number => Math.floor(Date.now() / 1000);
const whoami = { jsonrpc: '2.0', id: 1, method: 'probe.whoami', params: {} };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const valid = (claims = {}, options = {}) =>
  signToken({ iss: ISSUER, aud: AUDIENCE, ...claims }, options);

/** Every token the gateway must refuse, by name. */
async function forgedTokens(): Promise<Array<[string, string]>> {
  const good = await valid();
  const [header, payload, signature] = good.split('.');
  const adminPayload = Buffer.from(
    JSON.stringify({ sub: 'alice', scope: 'admin', iss: ISSUER, aud: AUDIENCE, exp: now() + 600 }),
  ).toString('base64url');
  const flipped =
    signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1);
  return [
    ...['none', 'None', 'NONE', 'nOnE'].map((alg): [string, string] => [
      `alg ${alg}`,
      unsignedToken(alg),
    ]),
    ['alg none with a signature', unsignedToken('none', signature)],
    ['stripped signature', `${header}.${payload}.`],
    ['two segments', `${header}.${payload}`],
    ['altered signature', `${header}.${payload}.${flipped}`],
    ['altered payload', `${header}.${adminPayload}.${signature}`],
    [
      'signed with another secret',
      await valid({}, { key: new TextEncoder().encode('another-secret-of-32-bytes-or-more!!') }),
    ],
    ['missing exp', await valid({}, { exp: null })],
    ['expired', await valid({}, { exp: now() - 60 })],
    ['nbf in the future', await valid({ nbf: now() + 600 })],
    ['iat in the future', await valid({ iat: now() + 600 })],
    ['wrong iss', await signToken({ iss: 'https://evil.test', aud: AUDIENCE })],
    ['missing iss', await signToken({ aud: AUDIENCE })],
    ['wrong aud', await signToken({ iss: ISSUER, aud: 'someone-else' })],
    ['missing sub', await valid({ sub: undefined })],
    ['refresh token (typ header)', await valid({}, { header: { typ: 'rt+jwt' } })],
    ['refresh token (typ claim)', await valid({ typ: 'Refresh' })],
    ['refresh token (token_use)', await valid({ token_use: 'refresh' })],
    ['opaque refresh token', `ocr_${'A'.repeat(43)}`],
    ['not a JWT', 'hello-world'],
    ['JSON', '{"sub":"alice"}'],
    [
      'RS256 header without a JWKS',
      `${Buffer.from(JSON.stringify({ alg: 'RS256' })).toString('base64url')}.${payload}.${signature}`,
    ],
    ['header over 8 KiB', await valid({}, { header: { pad: 'x'.repeat(9000) } })],
  ];
}

describe('JwtAuthGuard over HTTP and WebSocket (HS256)', () => {
  let gateway: TestGateway;
  let forged: Array<[string, string]>;

  beforeAll(async () => {
    gateway = await startGateway(
      {
        auth: {
          jwt: { secret: TEST_SECRET, issuer: ISSUER, audience: AUDIENCE, clockTolerance: 0 },
        },
      },
      { imports: [CalculatorModule, AuthProbeModule] },
    );
    forged = await forgedTokens();
  });
  afterAll(() => gateway?.close());

  it('lets public methods through without a token, singly and in a batch', async () => {
    const discover = await postRpc(gateway.baseUrl, {
      jsonrpc: '2.0',
      id: 1,
      method: 'rpc.discover',
    });
    expect(discover.status).toBe(200);
    expect(discover.body.result.openrpc).toBeDefined();
    const batch = await postRpc(gateway.baseUrl, [
      { jsonrpc: '2.0', id: 1, method: 'rpc.discover' },
      { jsonrpc: '2.0', id: 2, method: 'subtract', params: { minuend: 3, subtrahend: 1 } },
    ]);
    expect(batch.status).toBe(200);
    expect(batch.body[1].result).toBe(2);
  });

  it('answers 401 with a Bearer challenge and -32001 when the token is missing', async () => {
    for (const body of [whoami, [{ jsonrpc: '2.0', id: 1, method: 'rpc.discover' }, whoami]]) {
      const reply = await postRpc(gateway.baseUrl, body);
      expect(reply.status).toBe(401);
      expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
      expect(reply.body).toEqual({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32001, message: 'Missing bearer token' },
      });
    }
  });

  it('runs a scoped method with a valid token and hands the handler its caller', async () => {
    const reply = await postRpc(gateway.baseUrl, whoami, { headers: bearer(await valid()) });
    expect(reply.status).toBe(200);
    expect(reply.body.result).toEqual({ subject: 'alice', scopes: ['sessions:read'] });
  });

  it('refuses every forged or unacceptable token over HTTP with 401 invalid_token', async () => {
    for (const [name, token] of forged) {
      const reply = await postRpc(gateway.baseUrl, whoami, { headers: bearer(token) });
      expect({ name, status: reply.status }).toEqual({ name, status: 401 });
      expect(reply.headers.get('www-authenticate'), name).toContain('error="invalid_token"');
      expect(reply.body.id, name).toBeNull();
      expect(reply.body.error.code, name).toBe(-32001);
    }
  });

  it('refuses every forged token at the WebSocket upgrade, in the header and as a subprotocol', async () => {
    for (const [name, token] of forged) {
      await expect(
        WsTestClient.connect(gateway.wsUrl, { headers: bearer(token) }),
        name,
      ).rejects.toThrow('upgrade refused: 401');
    }
    for (const [name, token] of forged.filter(([, t]) => /^[\w.-]+$/.test(t) && t.length < 8000)) {
      await expect(
        WsTestClient.connect(gateway.wsUrl, { protocols: ['openclaw.v1', `bearer.${token}`] }),
        name,
      ).rejects.toThrow('upgrade refused: 401');
    }
  });

  it('refuses a WebSocket without a token, and never reads one from the query string', async () => {
    await expect(WsTestClient.connect(gateway.wsUrl)).rejects.toThrow('upgrade refused: 401');
    await expect(
      WsTestClient.connect(`${gateway.wsUrl}?access_token=${await valid()}`),
    ).rejects.toThrow('upgrade refused: 401');
  });

  it('accepts a token from the header or from the bearer subprotocol, echoing only openclaw.v1', async () => {
    const token = await valid();
    const viaHeader = await WsTestClient.connect(gateway.wsUrl, { headers: bearer(token) });
    expect((await viaHeader.call('probe.whoami', {}, 1)).result.subject).toBe('alice');
    viaHeader.close();
    const viaProtocol = await WsTestClient.connect(gateway.wsUrl, {
      protocols: ['openclaw.v1', `bearer.${token}`],
    });
    expect(viaProtocol.socket.protocol).toBe('openclaw.v1');
    expect((await viaProtocol.call('probe.whoami', {}, 2)).result.subject).toBe('alice');
    viaProtocol.close();
  });

  it('still serves a valid token after forged ones were refused', async () => {
    await postRpc(gateway.baseUrl, whoami, { headers: bearer(unsignedToken('none')) });
    await postRpc(gateway.baseUrl, whoami, { headers: bearer(forged[6][1]) });
    const reply = await postRpc(gateway.baseUrl, whoami, { headers: bearer(await valid()) });
    expect(reply.status).toBe(200);
    expect(reply.body.result.subject).toBe('alice');
  });

  it('denies a call whose scope the token lacks with -32003 and the required scope; admin passes', async () => {
    const agentsOnly = await valid({ scope: 'agents:read' });
    const denied = await postRpc(gateway.baseUrl, whoami, { headers: bearer(agentsOnly) });
    expect(denied.status).toBe(200);
    expect(denied.body.error).toEqual({
      code: -32003,
      message: 'Forbidden',
      data: { requiredScope: 'sessions:read' },
    });
    const batch = await postRpc(
      gateway.baseUrl,
      [whoami, { jsonrpc: '2.0', id: 2, method: 'private.thing' }],
      { headers: bearer(await valid()) },
    );
    expect(batch.body[0].result.subject).toBe('alice');
    expect(batch.body[1].error).toMatchObject({ code: -32003, data: { requiredScope: 'admin' } });

    const admin = await valid({ scope: 'admin' });
    const both = await postRpc(
      gateway.baseUrl,
      [whoami, { jsonrpc: '2.0', id: 2, method: 'private.thing' }],
      { headers: bearer(admin) },
    );
    expect(both.body.map((r: any) => r.result)).toEqual([
      { subject: 'alice', scopes: ['admin'] },
      'ok',
    ]);

    const ws = await WsTestClient.connect(gateway.wsUrl, { headers: bearer(agentsOnly) });
    expect((await ws.call('probe.whoami', {}, 3)).error).toMatchObject({
      code: -32003,
      data: { requiredScope: 'sessions:read' },
    });
    ws.close();
  });

  it('reads no file, queries nothing and fetches nothing for kid, jku, x5u or jwk headers', async () => {
    const trap = await recordingServer();
    try {
      const headers = [
        { kid: `${trap.url}/kid` },
        { kid: '../../../../etc/passwd' },
        { kid: "' OR 1=1 --" },
        { jku: `${trap.url}/jwks.json` },
        { x5u: `${trap.url}/cert.pem` },
        {
          jwk: {
            kty: 'oct',
            k: Buffer.from('attacker-key-of-32-bytes-or-more!!').toString('base64url'),
          },
        },
      ];
      for (const header of headers) {
        const forgedWithKey = await valid(
          { scope: 'admin' },
          { header, key: new TextEncoder().encode('attacker-key-of-32-bytes-or-more!!') },
        );
        const reply = await postRpc(gateway.baseUrl, whoami, { headers: bearer(forgedWithKey) });
        expect(reply.status).toBe(401);
        await expect(
          WsTestClient.connect(gateway.wsUrl, { headers: bearer(forgedWithKey) }),
        ).rejects.toThrow('upgrade refused: 401');
      }
      expect(trap.hits).toEqual([]);
    } finally {
      await trap.close();
    }
  });

  it('stops accepting an HTTP token at its expiry, though it was accepted (and remembered) before', async () => {
    const exp = now() + 2;
    const token = await valid({}, { exp });
    const first = await postRpc(gateway.baseUrl, whoami, { headers: bearer(token) });
    expect(first.body.result.subject).toBe('alice');
    // Waiting out the token's lifetime is the event under test (clockTolerance is 0 here).
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    const later = await postRpc(gateway.baseUrl, whoami, { headers: bearer(token) });
    expect(later.status).toBe(401);
    expect(later.body.error).toMatchObject({ code: -32001 });
    expect(later.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('refuses a forged payload carrying the signature of a token it has just accepted', async () => {
    const good = await valid();
    expect((await postRpc(gateway.baseUrl, whoami, { headers: bearer(good) })).status).toBe(200);
    const [header, , signature] = good.split('.');
    const admin = Buffer.from(
      JSON.stringify({
        sub: 'mallory',
        scope: 'admin',
        iss: ISSUER,
        aud: AUDIENCE,
        exp: now() + 600,
      }),
    ).toString('base64url');
    const forgedReply = await postRpc(gateway.baseUrl, whoami, {
      headers: bearer(`${header}.${admin}.${signature}`),
    });
    expect(forgedReply.status).toBe(401);
  });

  it('closes a WebSocket with 4001 when its token expires, without waiting for a call', async () => {
    const exp = now() + 2;
    const token = await valid({}, { exp });
    const ws = await WsTestClient.connect(gateway.wsUrl, { headers: bearer(token) });
    expect((await ws.call('probe.whoami', {}, 1)).result.subject).toBe('alice');
    expect(await ws.closed).toBe(4001);
    // clockTolerance is 0 here: closed at exp, not before.
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
  });

  it('guards plain HTTP routes: @Public ones pass, others need a valid bearer token', async () => {
    expect((await fetch(`${gateway.baseUrl}/health`)).status).toBe(200);
    const anonymous = await fetch(`${gateway.baseUrl}/status`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const forgedReply = await fetch(`${gateway.baseUrl}/status`, {
      headers: bearer(unsignedToken('none')),
    });
    expect(forgedReply.status).toBe(401);
    expect(forgedReply.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const ok = await fetch(`${gateway.baseUrl}/status`, {
      headers: bearer(await valid({ scope: 'metrics:read' })),
    });
    expect(ok.status).toBe(200);
  });
});
