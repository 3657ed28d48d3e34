import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerException,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
} from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { GatewayConfig } from '../config/gateway-config.js';
import { getRpcCallContext, type RpcCallContext } from '../rpc/rpc-call-context.js';
import type { RpcConnection } from '../rpc/rpc-connection.js';
import { WsCloseCode } from '../ws/ws-rpc-connection.js';
import { clientIp, ipKey } from './client-ip.js';
import { RateLimitStatsService } from './rate-limit-stats.service.js';
import { writeRateLimitHeaders } from './rate-limit.headers.js';
import {
  CLIENT_THROTTLER,
  DEFAULT_HTTP_ROUTES,
  DEFAULT_SESSION_METHODS,
  DEFAULT_WS_VIOLATIONS_BEFORE_CLOSE,
  RATE_LIMIT_MODULE_OPTIONS,
  SESSION_THROTTLER,
  type RateLimitModuleOptions,
} from './rate-limit.options.js';
import {
  RateLimitStoreUnavailableError,
  type RateLimitRecord,
  type RateLimitStore,
} from './rate-limit.store.js';
import { RateLimitedException } from './rate-limited.exception.js';
import { SESSION_RATE_LIMITED } from './session-rate-limited.decorator.js';

/** How long a client is told to wait while the store is unreachable and limits fail closed. */
const STORE_FAILURE_RETRY_MS = 1000;

/**
 * The route Fastify matched, as registered (`/auth/token`), never the raw URL: `/auth/%74oken`
 * and `/auth/token?x` reach the same handler and must meet the same limit.
 */
function matchedRoute(context: ExecutionContext): string | undefined {
  return context.switchToHttp().getRequest<FastifyRequest>().routeOptions?.url;
}

/** Longest params value kept as it is in a store key; longer ones are hashed. */
const MAX_KEY_PART = 64;

/**
 * The key part for a params value, which is counted before params are validated: an oversize
 * value is hashed, so a 1 MB "sessionKey" costs the store 43 bytes, not a megabyte a window.
 */
function boundedKey(value: string): string {
  if (value.length <= MAX_KEY_PART) return value;
  return `#${createHash('sha256').update(value).digest('base64url')}`;
}

/**
 * @nestjs/throttler's guard, run on every JSON-RPC call (each batch element, WS frame and
 * notification) rather than once per HTTP request. The `client` limit is keyed by the token's
 * subject, else the client IP; the `session` limit by (subject, sessionKey), for session-limited
 * methods only. Plain HTTP routes are skipped except `httpRoutes` (e.g. /auth/token, per IP and
 * matched route).
 */
@Injectable()
export class GatewayThrottlerGuard extends ThrottlerGuard {
  private readonly sessionMethods: ReadonlySet<string>;
  private readonly httpRoutes: ReadonlySet<string>;
  private readonly violationsBeforeClose: number;
  private readonly violations = new WeakMap<RpcConnection, { count: number; resetAt: number }>();

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: RateLimitStore,
    reflector: Reflector,
    private readonly config: GatewayConfig,
    private readonly stats: RateLimitStatsService,
    @Inject(RATE_LIMIT_MODULE_OPTIONS) moduleOptions: RateLimitModuleOptions,
  ) {
    super(options, storage, reflector);
    this.sessionMethods = new Set(moduleOptions.sessionMethods ?? DEFAULT_SESSION_METHODS);
    this.httpRoutes = new Set(moduleOptions.httpRoutes ?? DEFAULT_HTTP_ROUTES);
    this.violationsBeforeClose =
      moduleOptions.wsViolationsBeforeClose ?? DEFAULT_WS_VIOLATIONS_BEFORE_CLOSE;
  }

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (getRpcCallContext(context)) return Promise.resolve(false);
    if (context.getType() !== 'http') return Promise.resolve(true);
    const route = matchedRoute(context);
    return Promise.resolve(route === undefined || !this.httpRoutes.has(route));
  }

  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    const { context, limit, ttl } = request;
    const name = request.throttler.name ?? CLIENT_THROTTLER;
    const call = getRpcCallContext(context);
    const tracker = call ? this.rpcTracker(call, name, context) : this.httpTracker(context, name);
    if (tracker === undefined) return true;

    let record: RateLimitRecord;
    try {
      record = await (this.storageService as RateLimitStore).increment(
        `${name}:${tracker}`,
        ttl,
        limit,
        ttl,
        name,
      );
    } catch (err) {
      if (!(err instanceof RateLimitStoreUnavailableError)) throw err;
      this.stats.storeFailed();
      if (this.config.rateLimit.onStoreFailure === 'open') return true;
      this.stats.rejected(name);
      return this.refuse(context, call, name, STORE_FAILURE_RETRY_MS, 'store_unavailable');
    }

    const retryAfterMs = Math.max(1, record.timeToExpireMs);
    const headers =
      call?.transport === 'http'
        ? call.responseHeaders
        : call
          ? undefined
          : new Map<string, string>();
    if (headers) {
      writeRateLimitHeaders(headers, name, {
        limit,
        windowSeconds: Math.ceil(ttl / 1000),
        remaining: Math.max(0, limit - record.totalHits),
        resetSeconds: Math.ceil(retryAfterMs / 1000),
      });
      if (!call) this.setReplyHeaders(context, headers);
    }
    if (!record.isBlocked) return true;

    this.stats.rejected(name);
    if (call?.connection) this.countViolation(call.connection, ttl);
    return this.refuse(context, call, name, retryAfterMs);
  }

  private refuse(
    context: ExecutionContext,
    call: RpcCallContext | undefined,
    name: string,
    retryAfterMs: number,
    reason?: 'store_unavailable',
  ): never {
    if (call) throw new RateLimitedException(retryAfterMs, name, reason);
    this.setReplyHeaders(
      context,
      new Map([['retry-after', String(Math.ceil(retryAfterMs / 1000))]]),
    );
    throw new ThrottlerException();
  }

  private rpcTracker(
    call: RpcCallContext,
    name: string,
    context: ExecutionContext,
  ): string | undefined {
    if (name === CLIENT_THROTTLER) {
      return call.caller ? `sub:${call.caller.subject}` : `ip:${ipKey(call.ip)}`;
    }
    if (name !== SESSION_THROTTLER) return undefined;
    const paramKey =
      this.reflector.get<string | undefined>(SESSION_RATE_LIMITED, context.getHandler()) ??
      (this.sessionMethods.has(call.method.name) ? 'sessionKey' : undefined);
    if (paramKey === undefined) return undefined;
    const params = call.params;
    const value =
      typeof params === 'object' && params !== null && !Array.isArray(params)
        ? (params as Record<string, unknown>)[paramKey]
        : undefined;
    // A call without a usable session key fails params validation: nothing to count.
    if (typeof value !== 'string' || value === '') return undefined;
    // Counted per (caller, session): another subject's calls with this key (refused -32004 as
    // if the session did not exist) must not spend its owner's budget.
    const who = call.caller ? `sub:${call.caller.subject}` : `ip:${ipKey(call.ip)}`;
    return `${who}:${boundedKey(value)}`;
  }

  /** Per client IP and per route: each limited route has a budget of its own. */
  private httpTracker(context: ExecutionContext, name: string): string | undefined {
    if (name !== CLIENT_THROTTLER) return undefined;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const ip = ipKey(clientIp(request.ip, request.headers, this.config.gateway.trustedProxies));
    return `route:${matchedRoute(context)}:ip:${ip}`;
  }

  private setReplyHeaders(context: ExecutionContext, headers: Map<string, string>): void {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    for (const [header, value] of headers) void reply.header(header, value);
  }

  /** Repeated refusals on one WebSocket close it (1008) once the current reply is out. */
  private countViolation(connection: RpcConnection, windowMs: number): void {
    const now = Date.now();
    let entry = this.violations.get(connection);
    if (!entry || entry.resetAt <= now) {
      entry = { count: 0, resetAt: now + windowMs };
      this.violations.set(connection, entry);
    }
    if (++entry.count >= this.violationsBeforeClose) {
      connection.closeAfterReply?.(WsCloseCode.PolicyViolation, 'rate limit exceeded');
    }
  }
}
