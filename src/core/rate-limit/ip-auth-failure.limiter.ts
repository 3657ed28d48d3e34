import { Inject, Injectable, Logger } from '@nestjs/common';
import type {
  AuthFailureLimiter,
  AuthFailurePeer,
  AuthFailureVerdict,
} from './auth-failure-limiter.js';
import { GatewayConfig } from '../config/gateway-config.js';
import { clientIp, ipKey } from '../rpc/client-ip.js';
import { RateLimitStatsService } from './rate-limit-stats.service.js';
import { AUTH_FAILURE_LIMIT } from './rate-limit.options.js';
import {
  RATE_LIMIT_STORE,
  RateLimitStoreUnavailableError,
  type RateLimitStore,
} from './rate-limit.store.js';

/** How long a client is told to wait while the store is unreachable and limits fail closed. */
const STORE_FAILURE_RETRY_MS = 1000;

/**
 * Failed authentications per client IP (`rateLimit.authFailures`), counted in the shared store so
 * that every instance sees one budget. It is consulted only after a token was refused.
 */
@Injectable()
export class IpAuthFailureLimiter implements AuthFailureLimiter {
  private readonly logger = new Logger('RateLimit');

  constructor(
    @Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore,
    private readonly stats: RateLimitStatsService,
    private readonly config: GatewayConfig,
  ) {}

  async recordFailure(peer: AuthFailurePeer): Promise<AuthFailureVerdict> {
    const ip = clientIp(peer.remoteAddress, peer.headers, this.config.gateway.trustedProxies);
    const { limit, ttl } = this.config.rateLimit.authFailures;
    let retryAfterMs: number;
    try {
      const record = await this.store.increment(
        `${AUTH_FAILURE_LIMIT}:ip:${ipKey(ip)}`,
        ttl,
        limit,
        ttl,
        AUTH_FAILURE_LIMIT,
      );
      if (!record.isBlocked) return { refuse: false };
      retryAfterMs = Math.max(1, record.timeToExpireMs);
    } catch (err) {
      if (!(err instanceof RateLimitStoreUnavailableError)) throw err;
      this.stats.storeFailed();
      if (this.config.rateLimit.onStoreFailure === 'open') return { refuse: false };
      retryAfterMs = STORE_FAILURE_RETRY_MS;
    }
    this.stats.rejected(AUTH_FAILURE_LIMIT);
    this.logger.debug({ ip }, 'failed authentication refused: over the budget');
    return { refuse: true, retryAfterMs };
  }
}
