export interface RateLimitModuleOptions {
  /** Most distinct keys the in-memory store tracks (default 100,000). */
  maxKeys?: number;
  /** Methods the per-session limit applies to, besides those marked @SessionRateLimited(). */
  sessionMethods?: string[];
  /**
   * Plain HTTP routes limited per client IP with the client limit, named as registered (the
   * matched route, whatever the spelling of the request's path); /rpc is limited per call.
   */
  httpRoutes?: string[];
  /** New WebSocket connections per client IP (default: the client limit). */
  wsConnections?: { limit: number; ttl: number };
  /** Refused calls on one WebSocket, within the client window, before it is closed with 1008. */
  wsViolationsBeforeClose?: number;
}

export const RATE_LIMIT_MODULE_OPTIONS = Symbol('openclaw:rate-limit-module-options');

export const DEFAULT_SESSION_METHODS = ['session.message'];
export const DEFAULT_HTTP_ROUTES = ['/auth/token'];
export const DEFAULT_WS_VIOLATIONS_BEFORE_CLOSE = 10;

/** The throttlers' names, as they appear in errors, headers and /status. */
export const CLIENT_THROTTLER = 'client';
export const SESSION_THROTTLER = 'session';
export const WS_CONNECT_LIMIT = 'ws-connect';
/** Open WebSockets over `ws.maxConnectionsPerSubject` / `ws.maxConnectionsPerIp` (in /status). */
export const WS_OPEN_LIMIT = 'ws-open';
export const AUTH_FAILURE_LIMIT = 'auth-failures';
