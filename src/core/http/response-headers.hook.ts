import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from 'fastify';

/**
 * The page policies every route but the JSON APIs carries: the headers @fastify/helmet sent for
 * the gateway's configuration (helmet 8), written out once. The dashboard is a bundle from 'self':
 * no inline script, no framing, no referrer leak. TLS is terminated in front of the gateway, so
 * HSTS belongs there.
 */
export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  // CSP Level 3: 'self' in connect-src also matches ws: and wss: to the page's own host and port.
  'content-security-policy':
    "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;" +
    "connect-src 'self';font-src 'self';object-src 'none';base-uri 'self';form-action 'self';" +
    "frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'DENY',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});

/** POST /rpc's headers: its replies, refusals included, carry session data. */
export const RPC_API_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
});

/**
 * A route's own say, in its Fastify config: `securityHeaders: 'api'` for a JSON API route whose
 * replies carry data (POST /rpc), or an opt-out by the key @fastify/helmet read, kept for routes.
 * Decided by config, not by URL, so that a global prefix or a host's own mount keeps it.
 */
interface SecurityRouteConfig {
  securityHeaders?: 'api';
  helmet?: false | { skipRoute?: boolean };
}

/** The route config of a JSON API route that gets RPC_API_HEADERS (`@RouteConfig(...)`). */
export const API_SECURITY_HEADERS_ROUTE: Readonly<SecurityRouteConfig> = Object.freeze({
  securityHeaders: 'api',
});

/**
 * The headers a route's replies get: an API route (`securityHeaders: 'api'`) its API headers; a
 * route that opted out of the page policies (`config: { helmet: { skipRoute: true } }`, the
 * OpenAI-compatible API) none; every other route the page policies.
 */
export function securityHeadersFor(
  config: object | undefined,
): Readonly<Record<string, string>> | undefined {
  const own = config as SecurityRouteConfig | undefined;
  if (own?.securityHeaders === 'api') return RPC_API_HEADERS;
  if (own?.helmet === false || own?.helmet?.skipRoute === true) return undefined;
  return PAGE_SECURITY_HEADERS;
}

type OnRequestHook = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
) => void;

const PREPARED = Symbol('securityHeaders');

/**
 * Security headers decided per route when it is registered, not per request: each route gets one
 * small onRequest hook that writes its prepared headers (nothing for routes that carry none).
 * Unmatched paths (404s), which no route hook sees, get the page policies from `onUnmatched`,
 * which the caller's one global hook runs. This replaces @fastify/helmet, which ran two hooks
 * per request (one async), built a merged configuration and helmet's middleware per request.
 * Must be attached before the routes are registered (before app.init()).
 */
export function attachSecurityHeaders(fastify: FastifyInstance): {
  onUnmatched(request: FastifyRequest, reply: FastifyReply): void;
} {
  fastify.addHook('onRoute', (route: RouteOptions & { [PREPARED]?: true }) => {
    // Fastify copies a GET route's options into its HEAD twin: one hook is enough.
    if (route[PREPARED]) return;
    const headers = securityHeadersFor(route.config);
    if (!headers) return;
    route[PREPARED] = true;
    const hook: OnRequestHook = (_request, reply, done) => {
      void reply.headers(headers);
      done();
    };
    const own = route.onRequest;
    route.onRequest = own === undefined ? [hook] : [hook, ...(Array.isArray(own) ? own : [own])];
  });
  return {
    onUnmatched(request, reply) {
      if (request.is404) void reply.headers(PAGE_SECURITY_HEADERS);
    },
  };
}
