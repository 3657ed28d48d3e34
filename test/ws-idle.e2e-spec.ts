import { Injectable, Module, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { connect as tcpConnect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessTokenVerifier } from '../src/core/auth/access-token.verifier.js';
import { getRpcCallContext } from '../src/core/rpc/rpc-call-context.js';
import { CalculatorModule } from './support/calculator.rpc.js';
import { signToken } from './support/auth-tokens.js';
import { postRpc, startGateway, WsTestClient, type TestGateway } from './support/gateway.js';

/**
 * What an idle WebSocket keeps is made compact or shared (its upgrade headers, its token's
 * deadline, its listeners): what guards read and when sockets close must not change.
 */

/** A host's guard that reads upgrade headers over the WebSocket: a tenant header is required. */
@Injectable()
class TenantGuard implements CanActivate {
  readonly seen: Array<{ tenant: unknown; host: unknown; agent: unknown }> = [];

  canActivate(context: ExecutionContext): boolean {
    const call = getRpcCallContext(context);
    if (!call || call.transport !== 'ws') return true;
    const { headers } = call;
    this.seen.push({
      tenant: headers['x-tenant'],
      host: headers.host,
      agent: headers['user-agent'],
    });
    return typeof headers['x-tenant'] === 'string';
  }
}

@Module({
  imports: [CalculatorModule],
  providers: [TenantGuard, { provide: APP_GUARD, useExisting: TenantGuard }],
})
class TenantModule {}

const now = (): number => Math.floor(Date.now() / 1000);
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

let gateway: TestGateway;
beforeAll(async () => {
  // No clock tolerance: a socket closes at its token's exp, which the tests wait out.
  gateway = await startGateway(
    { auth: { jwt: { clockTolerance: 0 } } },
    { imports: [TenantModule] },
  );
});
afterAll(() => gateway?.close());

describe('idle WebSocket state', () => {
  it('gives a host guard each socket’s own upgrade headers, on every call', async () => {
    const guard = gateway.app.get(TenantGuard);
    const agent = 'tests/1.0 (same on every socket)';
    const clients = await Promise.all(
      ['acme', 'globex'].map((tenant) =>
        WsTestClient.connect(gateway.wsUrl, {
          headers: { ...gateway.auth, 'x-tenant': tenant, 'user-agent': agent },
        }),
      ),
    );
    const anonymous = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    for (let round = 0; round < 2; round++) {
      for (const [i, client] of clients.entries()) {
        const reply = await client.call('sum', { values: [i, round] }, `${i}.${round}`);
        expect(reply.result).toBe(i + round);
      }
    }
    const refused = await anonymous.call('sum', { values: [1] }, 'x');
    expect(refused.error.code).toBe(-32003);
    const host = new URL(gateway.wsUrl).host;
    expect(guard.seen).toEqual([
      { tenant: 'acme', host, agent },
      { tenant: 'globex', host, agent },
      { tenant: 'acme', host, agent },
      { tenant: 'globex', host, agent },
      { tenant: undefined, host, agent: undefined },
    ]);
    for (const client of [...clients, anonymous]) client.close();
  });

  it('keeps no verified-token entry for a socket: it keeps its caller; POST /rpc remembers', async () => {
    const verifier = gateway.app.get(AccessTokenVerifier);
    const token = await signToken({ sub: 'socket-only', scope: 'agents:read' });
    const client = await WsTestClient.connect(gateway.wsUrl, {
      headers: { ...bearer(token), 'x-tenant': 't' },
    });
    expect((await client.call('agent.list', {}, 'a')).result).toBeInstanceOf(Array);
    expect(verifier.cachedCaller(token)).toBeUndefined();
    const reply = await postRpc(
      gateway.baseUrl,
      { jsonrpc: '2.0', id: 1, method: 'agent.list', params: {} },
      { headers: bearer(token) },
    );
    expect(reply.body.result).toBeInstanceOf(Array);
    expect(verifier.cachedCaller(token)?.subject).toBe('socket-only');
    expect((await client.call('agent.list', {}, 'b')).result).toBeInstanceOf(Array);
    client.close();
  });

  it('closes each socket with 4001 at its own token’s expiry, not before, the others open', async () => {
    const exp = now() + 2;
    const [first, second, later] = await Promise.all(
      [exp, exp, exp + 1].map(async (at, i) =>
        WsTestClient.connect(gateway.wsUrl, {
          headers: {
            ...bearer(await signToken({ sub: `expiring-${i}` }, { exp: at })),
            'x-tenant': 't',
          },
        }),
      ),
    );
    expect(await first.closed).toBe(4001);
    expect(await second.closed).toBe(4001);
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    // The later token's socket still answers in between.
    if (Date.now() < (exp + 1) * 1000 - 200) {
      expect((await later.call('sum', { values: [2] }, 'later')).result).toBe(2);
    }
    expect(await later.closed).toBe(4001);
    expect(Date.now()).toBeGreaterThanOrEqual((exp + 1) * 1000);
  });

  it('forgets the deadline of a socket the client closed: nothing fires for it later', async () => {
    const exp = now() + 2;
    const leaving = await WsTestClient.connect(gateway.wsUrl, {
      headers: { ...bearer(await signToken({ sub: 'leaving' }, { exp })), 'x-tenant': 't' },
    });
    const staying = await WsTestClient.connect(gateway.wsUrl, {
      headers: { ...bearer(await signToken({ sub: 'staying' }, { exp })), 'x-tenant': 't' },
    });
    leaving.close();
    expect(await leaving.closed).toBe(1005);
    expect(await staying.closed).toBe(4001);
  });
});

/** An upgrade by hand, then nothing: the client never reads nor answers a close frame. */
async function silentSocket(wsUrl: string, token: string): Promise<Socket> {
  const url = new URL(wsUrl);
  const socket = tcpConnect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    [
      `GET ${url.pathname} HTTP/1.1`,
      `Host: ${url.host}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Protocol: openclaw.v1',
      `Authorization: Bearer ${token}`,
      '',
      '',
    ].join('\r\n'),
  );
  const head = await new Promise<string>((resolve) =>
    socket.once('data', (d) => resolve(String(d))),
  );
  expect(head).toMatch(/^HTTP\/1\.1 101/);
  socket.pause();
  return socket;
}

describe('WebSockets at shutdown', () => {
  it('ends a socket that never answers when the app closes', async () => {
    const own = await startGateway({}, { imports: [TenantModule] });
    const socket = await silentSocket(own.wsUrl, own.token);
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await own.close();
    await ended;
    expect(socket.destroyed).toBe(true);
  });
});
