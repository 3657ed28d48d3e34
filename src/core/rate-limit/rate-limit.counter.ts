import { Inject, Injectable } from '@nestjs/common';
import { GatewayConfig } from '../config/gateway-config.js';
import { RateLimitStatsService } from './rate-limit-stats.service.js';
import {
  RATE_LIMIT_STORE,
  RateLimitStoreUnavailableError,
  type RateLimitRecord,
  type RateLimitStore,
} from './rate-limit.store.js';
import { RateLimitedException } from './rate-limited.exception.js';

/** How long a client is told to wait while the store is unreachable and limits fail closed. */
const STORE_FAILURE_RETRY_MS = 1000;

/** A limit as the counter needs it: its name (in keys, errors and /status), size and window. */
export interface CountedLimit {
  readonly name: string;
  readonly limit: number;
  readonly ttl: number;
}

/**
 * One hit against a limit in the shared store, for every place that counts: the JSON-RPC
 * throttler, and the fronts that count their HTTP requests against the same budgets (/v1, /mcp).
 * An unreachable store applies `rateLimit.onStoreFailure`; refusals are counted for /status.
 */
@Injectable()
export class RateLimitCounter {
  /** The store counts a call's two limits in one round trip (`countPair`). */
  readonly pairs: boolean;

  constructor(
    @Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore,
    private readonly config: GatewayConfig,
    private readonly stats: RateLimitStatsService,
  ) {
    this.pairs = store.incrementPair !== undefined;
  }

  /**
   * Counts `key` against the limit: its record, at once from a store that needs no I/O (memory),
   * or undefined when the store is down and limits fail open. Throws RateLimitedException when
   * the store is down and limits fail closed.
   */
  count(
    limit: CountedLimit,
    key: string,
  ): RateLimitRecord | undefined | Promise<RateLimitRecord | undefined> {
    if (this.store.hit) return this.store.hit(key, limit.ttl, limit.limit);
    return this.store
      .increment(key, limit.ttl, limit.limit, limit.ttl, limit.name)
      .catch((err: unknown) => this.storeFailed(err, limit.name));
  }

  /**
   * Counts `firstKey` against `first`, then, only when that hit is within its limit, `secondKey`
   * against `second`, in one round trip (a store with `pairs` only). Both records are undefined
   * when the store is down and limits fail open; throws like `count` when they fail closed.
   */
  countPair(
    first: CountedLimit,
    firstKey: string,
    second: CountedLimit,
    secondKey: string,
  ): Promise<[RateLimitRecord?, RateLimitRecord?]> {
    return this.store.incrementPair!(
      { key: firstKey, ttl: first.ttl, limit: first.limit },
      { key: secondKey, ttl: second.ttl, limit: second.limit },
    ).catch((err: unknown) => {
      this.storeFailed(err, first.name);
      return [];
    });
  }

  /** Refuses a hit over the limit: RateLimitedException with the time until the window ends. */
  refuseIfBlocked(limit: CountedLimit, record: RateLimitRecord): void {
    if (!record.isBlocked) return;
    this.stats.rejected(limit.name);
    throw new RateLimitedException(retryAfterMs(record), limit.name);
  }

  private storeFailed(err: unknown, name: string): undefined {
    if (!(err instanceof RateLimitStoreUnavailableError)) throw err;
    this.stats.storeFailed();
    if (this.config.rateLimit.onStoreFailure === 'open') return undefined;
    this.stats.rejected(name);
    throw new RateLimitedException(STORE_FAILURE_RETRY_MS, name, 'store_unavailable');
  }
}

/** When a refused client may try again (ms, at least 1). */
export function retryAfterMs(record: RateLimitRecord): number {
  return Math.max(1, record.timeToExpireMs);
}
