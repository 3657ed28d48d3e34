import { Controller, Get, Module, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../src/core/identity/caller.js';
import { Public } from '../src/core/identity/public.decorator.js';
import { configureGatewayApp } from '../src/gateway.factory.js';
import { GatewayModule } from '../src/gateway.module.js';
import { TEST_SECRET } from './support/auth-tokens.js';
import { postRpc, WsTestClient } from './support/gateway.js';

// The README's "Trusting the host's authentication" example, run for real: a host Nest app with
// its own API keys imports GatewayModule and tells the gateway how to recognise its callers.
const API_KEYS = new Map<string, Caller>([
  ['key-of-dana', { subject: 'dana', scopes: new Set(['sessions:read', 'sessions:write']) }],
]);

@Controller('host')
class HostController {
  @Public()
  @Get('ping')
  ping(@Req() request: { headers: Record<string, unknown> }): { apiKey: boolean } {
    return { apiKey: typeof request.headers['x-api-key'] === 'string' };
  }
}

@Module({
  imports: [
    GatewayModule.forRoot({
      configFile: false,
      env: {},
      config: {
        database: { url: 'sqlite::memory:' },
        auth: { jwt: { secret: TEST_SECRET } },
        log: { level: 'warn' },
      },
      // The host serves its own pages; the dashboard's catch-all would answer its 404s.
      dashboard: false,
      auth: {
        authenticate: ({ headers }) => {
          const key = headers['x-api-key'];
          return typeof key === 'string' ? API_KEYS.get(key) : undefined;
        },
      },
    }),
  ],
  controllers: [HostController],
})
class HostAppModule {}

let app: NestFastifyApplication;
let baseUrl: string;

beforeAll(async () => {
  app = await NestFactory.create<NestFastifyApplication>(HostAppModule, new FastifyAdapter(), {
    logger: false,
  });
  await configureGatewayApp(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.getHttpServer().address();
  if (!address || typeof address !== 'object') throw new Error('no address');
  baseUrl = `http://127.0.0.1:${address.port}`;
});
afterAll(() => app?.close());

describe('a host app that brings its own authentication', () => {
  it('serves its own routes beside the gateway’s', async () => {
    expect(await (await fetch(`${baseUrl}/host/ping`)).json()).toEqual({ apiKey: false });
  });

  it('leaves the host’s unknown paths to its own 404 when the dashboard is off', async () => {
    for (const path of ['/', '/chat', '/host/nope']) {
      const response = await fetch(`${baseUrl}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.text(), path).not.toContain('<div id="app">');
    }
  });

  it('has the gateway trust the host’s caller, scopes included', async () => {
    const headers = { 'x-api-key': 'key-of-dana' };
    const created = await postRpc(
      baseUrl,
      { jsonrpc: '2.0', id: 1, method: 'session.create', params: {} },
      { headers },
    );
    expect(created.body.result.sessionKey).toMatch(/^ses_/);
    const listed = await postRpc(
      baseUrl,
      { jsonrpc: '2.0', id: 2, method: 'sessions.list', params: {} },
      { headers },
    );
    expect(listed.body.error).toMatchObject({ code: -32003, data: { requiredScope: 'admin' } });
  });

  it('still refuses a request the host does not recognise', async () => {
    const reply = await postRpc(
      baseUrl,
      { jsonrpc: '2.0', id: 1, method: 'session.create', params: {} },
      { headers: { 'x-api-key': 'stolen' } },
    );
    expect(reply.status).toBe(401);
    expect(reply.body.error.code).toBe(-32001);
  });

  it('authenticates a WebSocket upgrade the same way', async () => {
    const ws = await WsTestClient.connect(`${baseUrl.replace('http', 'ws')}/ws`, {
      headers: { 'x-api-key': 'key-of-dana' },
    });
    const reply = await ws.call('session.create', {}, 'c');
    expect(reply.result.sessionKey).toMatch(/^ses_/);
    ws.close();
    await expect(
      WsTestClient.connect(`${baseUrl.replace('http', 'ws')}/ws`, {
        headers: { 'x-api-key': 'nope' },
      }),
    ).rejects.toThrow(/401/);
  });
});
