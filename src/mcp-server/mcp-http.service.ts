import { Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { Caller } from '../core/identity/caller.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { McpRefusal } from './mcp-refusal.js';
import { McpRequestLimiter } from './mcp-request.limiter.js';
import { missingScope, toAuthInfo } from './mcp-scopes.js';
import { McpSessionRegistry } from './mcp-session.registry.js';
import type { McpSession } from './mcp-session.js';

/** One /mcp request as the HTTP layer hands it over. */
export interface McpHttpRequest {
  method: string;
  /** The absolute URL of the endpoint. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body of a POST. */
  body: unknown;
}

export interface McpHttpOutcome {
  response: Response;
  /** Call when the response is over (sent, or its client gone). */
  done(): void;
}

/** The request headers the MCP transport reads; nothing else (credentials least) is passed on. */
const TRANSPORT_HEADERS = [
  'accept',
  'content-type',
  'mcp-session-id',
  'mcp-protocol-version',
  'last-event-id',
] as const;

/** setTimeout's largest delay; a token living longer is looked at again when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Serves one /mcp request for an authenticated caller: counts it against the caller's limit,
 * refuses a method the caller's scopes do not allow, finds the caller's session (or opens one
 * for initialize) and lets the session's transport answer.
 */
@Injectable()
export class McpHttpService {
  constructor(
    private readonly sessions: McpSessionRegistry,
    private readonly limiter: McpRequestLimiter,
    private readonly config: GatewayConfig,
  ) {}

  async handle(caller: Caller, request: McpHttpRequest): Promise<McpHttpOutcome> {
    await this.limiter.consume(caller);
    if (request.method === 'POST') {
      const scope = missingScope(caller, request.body);
      if (scope !== undefined) throw McpRefusal.insufficientScope(scope);
    }
    const session = await this.beginIn(caller, request);
    let response: Response;
    try {
      response = await session.transport.handleRequest(toWebRequest(request), {
        parsedBody: request.method === 'POST' ? request.body : undefined,
        authInfo: toAuthInfo(caller),
      });
    } catch (error) {
      session.end();
      throw error;
    }
    // An initialize the transport refused (Accept header, malformed message) opened nothing.
    if (!session.initialized) this.sessions.forget(session);
    const expiry =
      request.method === 'GET' && response.ok ? this.endAtExpiry(session, caller) : undefined;
    return {
      response,
      done: () => {
        clearTimeout(expiry);
        session.end();
      },
    };
  }

  /** The request's session, with the request counted in it (`end()` when it is over). */
  private async beginIn(caller: Caller, request: McpHttpRequest): Promise<McpSession> {
    const id = single(request.headers['mcp-session-id']);
    if (request.method === 'POST' && isInitialize(request.body)) {
      if (id !== undefined) throw McpRefusal.alreadyInSession();
      return this.sessions.open(caller);
    }
    if (id === undefined) throw McpRefusal.sessionRequired();
    const session = this.sessions.find(id, caller);
    if (!session) throw McpRefusal.sessionNotFound();
    session.begin();
    return session;
  }

  /**
   * The GET stream must not outlive the token that opened it (as a WebSocket does not): it is
   * ended once the token is refused (expiry plus the clock tolerance the verifier allows), and
   * the client reconnects with the token it has by then.
   */
  private endAtExpiry(session: McpSession, caller: Caller): NodeJS.Timeout | undefined {
    if (caller.expiresAt === undefined) return undefined;
    const refusedAt = caller.expiresAt + this.config.auth.jwt.clockTolerance;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, refusedAt - Date.now()));
    return setTimeout(() => session.endStandaloneStream(), delay).unref();
  }
}

function isInitialize(body: unknown): boolean {
  const messages: unknown[] = Array.isArray(body) ? body : [body];
  return messages.some(
    (message) => (message as { method?: unknown } | null)?.method === 'initialize',
  );
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function toWebRequest(request: McpHttpRequest): Request {
  const headers = new Headers();
  for (const name of TRANSPORT_HEADERS) {
    const value = single(request.headers[name]);
    if (value !== undefined) headers.set(name, value);
  }
  return new Request(request.url, { method: request.method, headers });
}
