import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import {
  API_SECURITY_HEADERS_ROUTE,
  attachSecurityHeaders,
  PAGE_SECURITY_HEADERS,
  RPC_API_HEADERS,
  securityHeadersFor,
} from './response-headers.hook.js';

let app: FastifyInstance | undefined;
afterEach(() => app?.close());

function build(): FastifyInstance {
  const fastify = Fastify();
  const security = attachSecurityHeaders(fastify);
  fastify.addHook('onRequest', (request, reply, done) => {
    security.onUnmatched(request, reply);
    done();
  });
  fastify.get('/page', () => 'page');
  fastify.get(
    '/own-hook',
    { onRequest: (_req, reply, done) => (reply.header('x-own', '1'), done()) },
    () => 'ok',
  );
  fastify.get('/api', { config: { helmet: { skipRoute: true } } }, () => ({ ok: true }));
  fastify.post('/rpc', { config: API_SECURITY_HEADERS_ROUTE }, () => ({
    jsonrpc: '2.0',
    id: 1,
    result: [],
  }));
  // The same API route mounted under a prefix (a host's global prefix): decided by config.
  void fastify.register(
    (scope, _options, done) => {
      scope.post('/rpc', { config: API_SECURITY_HEADERS_ROUTE }, () => ({ ok: true }));
      scope.post('/other', () => ({ ok: true }));
      done();
    },
    { prefix: '/gw' },
  );
  app = fastify;
  return fastify;
}

function securityHeadersOf(headers: Record<string, unknown>): Record<string, unknown> {
  const names = new Set([...Object.keys(PAGE_SECURITY_HEADERS), ...Object.keys(RPC_API_HEADERS)]);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => names.has(name)));
}

describe('security headers prepared per route', () => {
  it('gives a page route the whole page policy set helmet used to send, and nothing else', async () => {
    const reply = await build().inject({ method: 'GET', url: '/page' });
    expect(securityHeadersOf(reply.headers)).toEqual(PAGE_SECURITY_HEADERS);
    expect(reply.headers['content-security-policy']).toBe(
      "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;" +
        "connect-src 'self';font-src 'self';object-src 'none';base-uri 'self';" +
        "form-action 'self';frame-ancestors 'none'",
    );
    expect(reply.headers['x-frame-options']).toBe('DENY');
    expect(reply.headers['strict-transport-security']).toBeUndefined();
  });

  it("keeps a route's own onRequest hooks and covers its HEAD twin", async () => {
    const fastify = build();
    const own = await fastify.inject({ method: 'GET', url: '/own-hook' });
    expect(own.headers['x-own']).toBe('1');
    expect(own.headers['referrer-policy']).toBe('no-referrer');
    const head = await fastify.inject({ method: 'HEAD', url: '/page' });
    expect(securityHeadersOf(head.headers)).toEqual(PAGE_SECURITY_HEADERS);
  });

  it('gives /rpc the API headers only and an opted-out route none', async () => {
    const fastify = build();
    const rpc = await fastify.inject({ method: 'POST', url: '/rpc', payload: {} });
    expect(securityHeadersOf(rpc.headers)).toEqual(RPC_API_HEADERS);
    const api = await fastify.inject({ method: 'GET', url: '/api' });
    expect(securityHeadersOf(api.headers)).toEqual({});
  });

  it('keeps an API route its headers under a prefix, and a page route under it its policies', async () => {
    const fastify = build();
    const rpc = await fastify.inject({ method: 'POST', url: '/gw/rpc', payload: {} });
    expect(securityHeadersOf(rpc.headers)).toEqual(RPC_API_HEADERS);
    const other = await fastify.inject({ method: 'POST', url: '/gw/other', payload: {} });
    expect(securityHeadersOf(other.headers)).toEqual(PAGE_SECURITY_HEADERS);
  });

  it('gives an unmatched path (404) the page policies', async () => {
    const reply = await build().inject({ method: 'GET', url: '/nowhere' });
    expect(reply.statusCode).toBe(404);
    expect(securityHeadersOf(reply.headers)).toEqual(PAGE_SECURITY_HEADERS);
  });

  it('decides by route config: an API route, opted out (both spellings), everything else', () => {
    expect(securityHeadersFor({ securityHeaders: 'api' })).toBe(RPC_API_HEADERS);
    expect(securityHeadersFor({ helmet: { skipRoute: true } })).toBeUndefined();
    expect(securityHeadersFor({ helmet: false })).toBeUndefined();
    expect(securityHeadersFor({})).toBe(PAGE_SECURITY_HEADERS);
    expect(securityHeadersFor(undefined)).toBe(PAGE_SECURITY_HEADERS);
  });
});
