import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerException,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerOptions,
  type ThrottlerRequest,
} from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayConfig } from '../config/gateway-config.js';
import { clientIp, ipKey } from '../rpc/client-ip.js';
import { getRpcCallContext, type RpcCallContext } from '../rpc/rpc-call-context.js';
import type { RpcConnection } from '../rpc/rpc-connection.js';
import { RpcExecutionContext } from '../rpc/rpc-execution-context.js';
import type { RpcCallCheck, RpcMethodDescriptor, RpcPreparedGuard } from '../rpc/rpc-guard.js';
import { WsCloseCode } from '../ws/ws-close-code.js';
import { RateLimitCounter, retryAfterMs } from './rate-limit.counter.js';
import { writePolicyHeaders, writeRateLimitHeaders } from './rate-limit.headers.js';
import {
  CLIENT_THROTTLER,
  DEFAULT_HTTP_ROUTES,
  DEFAULT_SESSION_METHODS,
  DEFAULT_WS_VIOLATIONS_BEFORE_CLOSE,
  RATE_LIMIT_MODULE_OPTIONS,
  SESSION_THROTTLER,
  type RateLimitModuleOptions,
} from './rate-limit.options.js';
import type { RateLimitRecord, RateLimitStore } from './rate-limit.store.js';
import { RateLimitedException } from './rate-limited.exception.js';
import { RpcThrottle } from './rpc-throttle.js';
import { SESSION_RATE_LIMITED } from './session-rate-limited.decorator.js';

// The metadata keys @Throttle() and @SkipThrottle() write (followed by the throttler's name);
// @nestjs/throttler does not export them from its root. The guard's spec checks they still match.
const THROTTLER_LIMIT = 'THROTTLER:LIMIT';
const THROTTLER_TTL = 'THROTTLER:TTL';
const THROTTLER_TRACKER = 'THROTTLER:TRACKER';
const THROTTLER_KEY_GENERATOR = 'THROTTLER:KEY_GENERATOR';
const THROTTLER_SKIP = 'THROTTLER:SKIP';

/**
 * The route Fastify matched, as registered (`/auth/token`), never the raw URL: `/auth/%74oken`
 * and `/auth/token?x` reach the same handler and must meet the same limit.
 */
function matchedRoute(context: ExecutionContext): string | undefined {
  return context.switchToHttp().getRequest<FastifyRequest>().routeOptions?.url;
}

/**
 * @nestjs/throttler's guard, run on every JSON-RPC call (each batch element, WS frame and
 * notification) rather than once per HTTP request. The `client` limit is keyed by the token's
 * subject, else the client IP; the `session` limit by (subject, sessionKey), for session-limited
 * methods only. Plain HTTP routes are skipped except `httpRoutes` (e.g. /auth/token, per IP and
 * matched route). For JSON-RPC methods, what applies (limits, windows, keys, header text) is
 * worked out once per method at boot; a call then costs its counter hits.
 */
@Injectable()
export class GatewayThrottlerGuard extends ThrottlerGuard implements RpcPreparedGuard {
  private readonly sessionMethods: ReadonlySet<string>;
  private readonly httpRoutes: ReadonlySet<string>;
  private readonly violationsBeforeClose: number;
  private readonly violations = new WeakMap<RpcConnection, { count: number; resetAt: number }>();

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: RateLimitStore,
    reflector: Reflector,
    private readonly config: GatewayConfig,
    private readonly counter: RateLimitCounter,
    @Inject(RATE_LIMIT_MODULE_OPTIONS) moduleOptions: RateLimitModuleOptions,
  ) {
    super(options, storage, reflector);
    this.sessionMethods = new Set(moduleOptions.sessionMethods ?? DEFAULT_SESSION_METHODS);
    this.httpRoutes = new Set(moduleOptions.httpRoutes ?? DEFAULT_HTTP_ROUTES);
    this.violationsBeforeClose =
      moduleOptions.wsViolationsBeforeClose ?? DEFAULT_WS_VIOLATIONS_BEFORE_CLOSE;
  }

  /** HTTP routes that are not limited per IP pass without a look at the throttlers. */
  override canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() === 'http') {
      const route = matchedRoute(context);
      if (route === undefined || !this.httpRoutes.has(route)) return Promise.resolve(true);
    }
    return super.canActivate(context);
  }

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (getRpcCallContext(context)) return Promise.resolve(false);
    return Promise.resolve(context.getType() !== 'http');
  }

  prepareRpcCheck(method: RpcMethodDescriptor): RpcCallCheck | null {
    // The throttlers are read in onModuleInit, which may not have run yet; it is idempotent.
    if (!this.throttlers) void this.onModuleInit();
    const targets = [method.handler, method.owner];
    const custom = (key: string, name: string) =>
      this.reflector.getAllAndOverride<unknown>(key + name, targets) !== undefined;
    const throttles: RpcThrottle[] = [];
    for (const throttler of this.throttlers) {
      const name = throttler.name ?? CLIENT_THROTTLER;
      if (this.reflector.getAllAndOverride<boolean>(THROTTLER_SKIP + name, targets)) continue;
      if (
        [THROTTLER_TRACKER, THROTTLER_KEY_GENERATOR].some((key) => custom(key, name)) ||
        this.isDynamic(throttler, name, targets)
      ) {
        // A method with a tracker, key generator or computed limit of its own gets the stock
        // guard's full treatment, with its own execution context per call.
        return (call) => this.stockCheck(method, call);
      }
      const limit = this.override(THROTTLER_LIMIT, name, targets) ?? (throttler.limit as number);
      const ttl = this.override(THROTTLER_TTL, name, targets) ?? (throttler.ttl as number);
      if (name === SESSION_THROTTLER) {
        const param =
          this.reflector.get<string | undefined>(SESSION_RATE_LIMITED, method.handler) ??
          (this.sessionMethods.has(method.metadata.name) ? 'sessionKey' : undefined);
        if (param !== undefined) throttles.push(new RpcThrottle(name, limit, ttl, param));
      } else if (name === CLIENT_THROTTLER) {
        throttles.push(new RpcThrottle(name, limit, ttl));
      }
    }
    return throttles.length ? (call) => this.countCall(call, throttles, 0) : null;
  }

  /** Counts a call against each limit in turn; synchronous with a store that answers at once. */
  private countCall(
    call: RpcCallContext,
    throttles: readonly RpcThrottle[],
    from: number,
  ): void | Promise<void> {
    if (from === 0 && throttles.length === 2 && this.counter.pairs) {
      const paired = this.countPair(call, throttles[0], throttles[1]);
      if (paired) return paired;
    }
    for (let i = from; i < throttles.length; i++) {
      const throttle = throttles[i];
      const key = throttle.keyOf(call);
      if (key === undefined) continue;
      const counted = this.counter.count(throttle, key);
      if (!(counted instanceof Promise)) {
        if (counted) this.apply(call, throttle, counted);
        continue;
      }
      return counted.then((record) => {
        if (record) this.apply(call, throttle, record);
        return this.countCall(call, throttles, i + 1);
      });
    }
  }

  /**
   * The client and session limits of a call in one round trip (PostgreSQL), the session hit
   * counted only when the client hit is within its limit, as when counted one after the other.
   */
  private countPair(
    call: RpcCallContext,
    first: RpcThrottle,
    second: RpcThrottle,
  ): Promise<void> | undefined {
    const firstKey = first.keyOf(call);
    const secondKey = second.keyOf(call);
    if (firstKey === undefined || secondKey === undefined) return undefined;
    return this.counter.countPair(first, firstKey, second, secondKey).then(([one, two]) => {
      if (one) this.apply(call, first, one);
      if (two) this.apply(call, second, two);
    });
  }

  private apply(call: RpcCallContext, throttle: RpcThrottle, record: RateLimitRecord): void {
    if (call.transport === 'http') {
      writePolicyHeaders(
        call.responseHeaders,
        throttle.headers,
        Math.max(0, throttle.limit - record.totalHits),
        Math.ceil(retryAfterMs(record) / 1000),
      );
    }
    if (record.isBlocked && call.connection) this.countViolation(call.connection, throttle.ttl);
    this.counter.refuseIfBlocked(throttle, record);
  }

  private async stockCheck(method: RpcMethodDescriptor, call: RpcCallContext): Promise<void> {
    await super.canActivate(new RpcExecutionContext(method, call));
  }

  private override(key: string, name: string, targets: object[]): number | undefined {
    return this.reflector.getAllAndOverride<number | undefined>(
      key + name,
      targets as Array<() => void>,
    );
  }

  private isDynamic(throttler: ThrottlerOptions, name: string, targets: object[]): boolean {
    const values = [
      throttler.limit,
      throttler.ttl,
      this.override(THROTTLER_LIMIT, name, targets),
      this.override(THROTTLER_TTL, name, targets),
    ];
    return values.some((value) => typeof value === 'function');
  }

  /** The stock guard's path: plain HTTP routes, and JSON-RPC methods with dynamic limits. */
  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    const { context, limit, ttl } = request;
    const name = request.throttler.name ?? CLIENT_THROTTLER;
    const call = getRpcCallContext(context);
    const tracker = call
      ? await this.rpcTracker(call, request, context)
      : this.httpTracker(context, name);
    if (tracker === undefined) return true;
    const counted = { name, limit, ttl };
    let record: RateLimitRecord | undefined;
    try {
      record = await this.counter.count(counted, `${name}:${tracker}`);
      if (!record) return true;
      const headers = call
        ? call.transport === 'http'
          ? call.responseHeaders
          : undefined
        : new Map<string, string>();
      if (headers) {
        writeRateLimitHeaders(headers, name, {
          limit,
          windowSeconds: Math.ceil(ttl / 1000),
          remaining: Math.max(0, limit - record.totalHits),
          resetSeconds: Math.ceil(retryAfterMs(record) / 1000),
        });
        if (!call) this.setReplyHeaders(context, headers);
      }
      if (record.isBlocked && call?.connection) this.countViolation(call.connection, ttl);
      this.counter.refuseIfBlocked(counted, record);
      return true;
    } catch (error) {
      // A plain HTTP route is refused the HTTP way: 429 with Retry-After.
      if (call || !(error instanceof RateLimitedException)) throw error;
      this.setReplyHeaders(
        context,
        new Map([['retry-after', String(Math.ceil(error.retryAfterMs / 1000))]]),
      );
      throw new ThrottlerException();
    }
  }

  /**
   * A JSON-RPC call on the stock path (a method with a tracker or computed limit of its own): its
   * own tracker if it has one, else the same subject and session keys as prepared calls.
   */
  private async rpcTracker(
    call: RpcCallContext,
    request: ThrottlerRequest,
    context: ExecutionContext,
  ): Promise<string | undefined> {
    const name = request.throttler.name ?? CLIENT_THROTTLER;
    const param =
      name === SESSION_THROTTLER ? this.sessionParam(context.getHandler(), call) : undefined;
    if (name === SESSION_THROTTLER && param === undefined) return undefined;
    if (request.getTracker !== this.commonOptions.getTracker) {
      return (await request.getTracker(call as never, context)) || undefined;
    }
    return new RpcThrottle(name, request.limit, request.ttl, param).trackerOf(call);
  }

  private sessionParam(handler: object, call: RpcCallContext): string | undefined {
    return (
      this.reflector.get<string | undefined>(SESSION_RATE_LIMITED, handler as () => void) ??
      (this.sessionMethods.has(call.method.name) ? 'sessionKey' : undefined)
    );
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
