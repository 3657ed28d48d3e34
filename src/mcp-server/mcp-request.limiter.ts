import { Injectable, Optional } from '@nestjs/common';
import type { Caller } from '../core/identity/caller.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { RateLimitCounter } from '../core/rate-limit/rate-limit.counter.js';
import { CLIENT_THROTTLER } from '../core/rate-limit/rate-limit.options.js';
import { RateLimitedException } from '../core/rate-limit/rate-limited.exception.js';
import { McpRefusal } from './mcp-refusal.js';

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
    @Optional() private readonly counter?: RateLimitCounter,
  ) {}

  /** Counts one request; throws McpRefusal (429 with Retry-After) when over the limit. */
  async consume(caller: Caller): Promise<void> {
    if (!this.counter) return;
    const limit = { name: CLIENT_THROTTLER, ...this.config.rateLimit.client };
    try {
      const record = await this.counter.count(limit, `${CLIENT_THROTTLER}:sub:${caller.subject}`);
      if (record) this.counter.refuseIfBlocked(limit, record);
    } catch (error) {
      if (!(error instanceof RateLimitedException)) throw error;
      const { retryAfterMs, reason } = error.data as { retryAfterMs: number; reason?: string };
      throw McpRefusal.rateLimited(
        retryAfterMs,
        reason === 'store_unavailable' ? reason : undefined,
      );
    }
  }
}
