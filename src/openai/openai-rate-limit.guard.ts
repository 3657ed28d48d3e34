import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayConfig, type LimitConfig } from '../core/config/gateway-config.js';
import { RateLimitCounter, retryAfterMs } from '../core/rate-limit/rate-limit.counter.js';
import { writeRateLimitHeaders } from '../core/rate-limit/rate-limit.headers.js';
import { CLIENT_THROTTLER, SESSION_THROTTLER } from '../core/rate-limit/rate-limit.options.js';
import { boundedKey } from '../core/rate-limit/rpc-throttle.js';
import { requestCaller } from '../core/auth/request-caller.js';
import { SESSION_HEADER } from './openai.headers.js';

const SESSION_LIMITED = 'openclaw:openai-session-limited';

/** The route is a session turn: the `session` limit applies to the session the header names. */
export const SessionTurnRoute = (): MethodDecorator => SetMetadata(SESSION_LIMITED, true);

/**
 * The gateway's limits for /v1, counted in the same store under the same keys as JSON-RPC calls
 * (the global throttler counts only listed plain HTTP routes, per IP): a /v1 call spends the
 * subject's `client` budget like any call, and a turn in a named session its `session` budget
 * like `session.message`. Over a limit: 429 with Retry-After; store unreachable: per
 * `rateLimit.onStoreFailure`.
 */
@Injectable()
export class OpenAiRateLimitGuard implements CanActivate {
  constructor(
    private readonly counter: RateLimitCounter,
    private readonly config: GatewayConfig,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const who = `sub:${requestCaller(request).subject}`;
    const headers = new Map<string, string>();
    try {
      await this.hit(CLIENT_THROTTLER, who, this.config.rateLimit.client, headers);
      const sessionKey = request.headers[SESSION_HEADER];
      if (
        typeof sessionKey === 'string' &&
        sessionKey !== '' &&
        this.reflector.get<boolean>(SESSION_LIMITED, context.getHandler())
      ) {
        // Counted per (subject, session), as session.message is: another subject's calls with
        // this key (answered 404) never spend its owner's budget.
        const key = `${who}:${boundedKey(sessionKey)}`;
        await this.hit(SESSION_THROTTLER, key, this.config.rateLimit.session, headers);
      }
    } finally {
      for (const [name, value] of headers) void reply.header(name, value);
    }
    return true;
  }

  private async hit(
    name: string,
    tracker: string,
    { limit, ttl }: LimitConfig,
    headers: Map<string, string>,
  ): Promise<void> {
    const counted = { name, limit, ttl };
    const record = await this.counter.count(counted, `${name}:${tracker}`);
    if (!record) return;
    writeRateLimitHeaders(headers, name, {
      limit,
      windowSeconds: Math.ceil(ttl / 1000),
      remaining: Math.max(0, limit - record.totalHits),
      resetSeconds: Math.ceil(retryAfterMs(record) / 1000),
    });
    this.counter.refuseIfBlocked(counted, record);
  }
}
