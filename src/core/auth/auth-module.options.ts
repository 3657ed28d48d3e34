import type { IncomingHttpHeaders } from 'node:http';
import type { Caller } from '../identity/caller.js';

/** What a host application's authenticator sees of a request (HTTP or WebSocket upgrade). */
export interface HostAuthRequest {
  headers: IncomingHttpHeaders;
  /** What the host's own guard or Passport strategy put on the request, if it ran first. */
  user?: unknown;
}

/** Tuning of authentication (GatewayModuleOptions.auth); the defaults suit production. */
export interface AuthModuleOptions {
  /**
   * Trust the host application's authentication: return the caller for a request the host
   * recognises (its session cookie, API key, `request.user` from Passport…), or undefined to fall
   * back to the gateway's bearer tokens. Scopes are still checked per method.
   */
  authenticate?: (request: HostAuthRequest) => Caller | undefined | Promise<Caller | undefined>;
  jwks?: {
    /** Least time between two JWKS fetches caused by an unknown `kid` (default 30 s). */
    cooldownMs?: number;
    /** How long fetched keys are trusted before a refetch (default 10 min). */
    cacheMaxAgeMs?: number;
    /** Timeout of one JWKS fetch (default 5 s). */
    timeoutMs?: number;
  };
}

export const AUTH_MODULE_OPTIONS = Symbol('openclaw:auth-module-options');
