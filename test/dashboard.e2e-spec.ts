import { existsSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardModule, DEFAULT_DASHBOARD_ROOT } from '../src/dashboard/dashboard.module.js';
import { postRpc, startGateway, type TestGateway } from './support/gateway.js';

// `npm test` builds first (pretest), so public/ holds the dashboard bundle.
const built = existsSync(`${DEFAULT_DASHBOARD_ROOT}/index.html`);

let gateway: TestGateway;
beforeAll(async () => {
  if (!built) throw new Error('public/index.html is missing: run `npm run build` first');
  gateway = await startGateway();
});
afterAll(() => gateway?.close());

describe('the dashboard served at /', () => {
  it('serves index.html at / without a token, with the security headers', async () => {
    const response = await fetch(`${gateway.baseUrl}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    expect(html).toContain('<div id="app">');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    // The page's WebSocket goes to its own origin ('self' covers ws:/wss: there), nowhere else.
    expect(csp).toMatch(/(^|;)\s*connect-src 'self'\s*(;|$)/);
    expect(csp).not.toMatch(/\b(ws|wss):/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('gives /rpc replies the API headers (no sniffing, no caching) instead of page policies', async () => {
    const reply = await postRpc(
      gateway.baseUrl,
      { jsonrpc: '2.0', id: 1, method: 'agent.list', params: {} },
      { headers: gateway.auth },
    );
    expect(reply.status).toBe(200);
    expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.headers.get('content-security-policy')).toBeNull();
    const refused = await postRpc(gateway.baseUrl, { jsonrpc: '2.0', id: 1, method: 'agent.list' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('cache-control')).toBe('no-store');
  });

  it('answers a client-side route with index.html (history mode)', async () => {
    const response = await fetch(`${gateway.baseUrl}/chat`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<div id="app">');
  });

  it('serves the bundle assets referenced by index.html without a token', async () => {
    const html = await (await fetch(`${gateway.baseUrl}/`)).text();
    const script = /<script[^>]+src="([^"]+)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const response = await fetch(`${gateway.baseUrl}${script}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
  });

  it('leaves the gateway paths alone: health, status, rpc and unknown /auth paths', async () => {
    const health = await fetch(`${gateway.baseUrl}/health`);
    expect(health.headers.get('content-type')).toMatch(/json/);
    expect((await fetch(`${gateway.baseUrl}/status`)).status).toBe(401);
    const status = await fetch(`${gateway.baseUrl}/status`, { headers: gateway.auth });
    expect(status.status).toBe(200);
    for (const path of ['/auth/nope', '/metrics/nope', '/rpc', '/health/nope']) {
      const response = await fetch(`${gateway.baseUrl}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.text(), path).not.toContain('<div id="app">');
    }
    const rpc = await postRpc(gateway.baseUrl, { jsonrpc: '2.0', id: 1, method: 'rpc.discover' });
    expect(rpc.body.result.methods.length).toBeGreaterThan(0);
  });
});

describe('a build without the dashboard', () => {
  it('boots anyway and answers / with 404', async () => {
    const app = await NestFactory.create<NestFastifyApplication>(
      DashboardModule.forRoot('/nonexistent/openclaw-dashboard'),
      new FastifyAdapter(),
      { logger: false },
    );
    await app.init();
    try {
      const reply = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/' });
      expect(reply.statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });
});
