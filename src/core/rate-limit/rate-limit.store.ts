import type { ThrottlerStorage } from '@nestjs/throttler';

/** One hit's outcome; times in whole seconds as ThrottlerStorage has them, plus milliseconds. */
export interface RateLimitRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
  /** Milliseconds until the window ends and the count starts again. */
  timeToExpireMs: number;
}

export interface RateLimitStoreState {
  store: 'memory' | 'redis' | 'postgres';
  /** False while the shared store cannot be reached. */
  available: boolean;
  /** When the current outage began (ISO 8601). */
  unavailableSince?: string;
  /** Keys tracked in memory (memory store only). */
  keys?: number;
}

/**
 * Fixed-window counters behind ThrottlerStorage: each hit increments the key's count for the
 * current window and reports it. A hit beyond the limit is reported blocked until the window
 * ends (block duration is the window; refused hits are counted, which changes nothing).
 */
export interface RateLimitStore extends ThrottlerStorage {
  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<RateLimitRecord>;
  /**
   * The same hit answered at once, by a store that needs no I/O (memory): a call's limits then
   * cost it no promise.
   */
  hit?(key: string, ttl: number, limit: number): RateLimitRecord;
  /**
   * A call's two hits (its client limit, then its session limit) in one round trip, the second
   * counted only when the first is within its limit, exactly as two increments one after the
   * other: a store whose every hit is I/O (PostgreSQL) halves a call's waits with it.
   */
  incrementPair?(first: PairedHit, second: PairedHit): Promise<[RateLimitRecord, RateLimitRecord?]>;
  state(): RateLimitStoreState;
}

/** One hit of `incrementPair`: its key, window (ms) and limit. */
export interface PairedHit {
  key: string;
  ttl: number;
  limit: number;
}

export const RATE_LIMIT_STORE = Symbol('openclaw:rate-limit-store');

/** The record for `count` hits in a window that ends in `ttlMs`. */
export function rateLimitRecord(count: number, ttlMs: number, limit: number): RateLimitRecord {
  const timeToExpireMs = Math.max(0, ttlMs);
  const seconds = Math.ceil(timeToExpireMs / 1000);
  const isBlocked = count > limit;
  return {
    totalHits: count,
    timeToExpire: seconds,
    isBlocked,
    timeToBlockExpire: isBlocked ? seconds : 0,
    timeToExpireMs,
  };
}

/** Thrown by a store that cannot count (Redis unreachable); the guard applies onStoreFailure. */
export class RateLimitStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('rate-limit store unavailable', { cause });
    this.name = 'RateLimitStoreUnavailableError';
  }
}
