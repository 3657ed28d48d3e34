import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Caller } from '../core/identity/caller.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { RateLimitStatsService } from '../core/rate-limit/rate-limit-stats.service.js';
import { CLIENT_THROTTLER } from '../core/rate-limit/rate-limit.options.js';
import {
  RATE_LIMIT_STORE,
  RateLimitStoreUnavailableError,
  type RateLimitStore,
} from '../core/rate-limit/rate-limit.store.js';
import { McpRefusal } from './mcp-refusal.js';

/** How long a client is told to wait while the store is unreachable and limits fail closed. */
const STORE_FAILURE_RETRY_MS = 1000;

/**
 * Counts each /mcp request against the caller's `client` limit, the very counter JSON-RPC
 * calls spend (key `client:sub:<subject>`, in the shared store): a subject has one budget over
 * /rpc, /ws and /mcp. The global throttler counts plain HTTP routes per IP only, which would
 * let one token spend as many budgets as it has addresses.
 */
@Injectable()
export class McpRequestLimiter {
  constructor(
    private readonly config: GatewayConfig,
    @Optional() @Inject(RATE_LIMIT_STORE) private readonly store?: RateLimitStore,
    @Optional() private readonly stats?: RateLimitStatsService,
  ) {}

  /** Counts one request; throws McpRefusal (429 with Retry-After) when over the limit. */
  async consume(caller: Caller): Promise<void> {
    if (!this.store) return;
    const { limit, ttl } = this.config.rateLimit.client;
    let record;
    try {
      record = await this.store.increment(
        `${CLIENT_THROTTLER}:sub:${caller.subject}`,
        ttl,
        limit,
        ttl,
        CLIENT_THROTTLER,
      );
    } catch (err) {
      if (!(err instanceof RateLimitStoreUnavailableError)) throw err;
      this.stats?.storeFailed();
      if (this.config.rateLimit.onStoreFailure === 'open') return;
      this.stats?.rejected(CLIENT_THROTTLER);
      throw McpRefusal.rateLimited(STORE_FAILURE_RETRY_MS, 'store_unavailable');
    }
    if (!record.isBlocked) return;
    this.stats?.rejected(CLIENT_THROTTLER);
    throw McpRefusal.rateLimited(Math.max(1, record.timeToExpireMs));
  }
}
