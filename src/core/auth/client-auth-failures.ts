import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { ipKey } from '../rpc/client-ip.js';
import {
  RATE_LIMIT_STORE,
  RateLimitStoreUnavailableError,
  type RateLimitStore,
} from '../rate-limit/rate-limit.store.js';
import { setNewest } from '../collections/bounded-map.js';

/** Failed client authentications one address may make for one client id per window. */
export const CLIENT_FAILURE_LIMIT = 10;
export const CLIENT_FAILURE_WINDOW_MS = 60_000;
/** Locks remembered by this instance at most; the oldest goes first. */
const MAX_LOCKS = 10_000;

/**
 * Failed secrets per (client id, client address). Client ids are not secret (every access token
 * carries one), so the count is per address: a third party guessing from elsewhere locks only
 * itself out, and only failures count, so a client fetching tokens often is never refused.
 *
 * The count lives in the shared rate-limit store, so instances agree on it. The store only
 * counts hits, it cannot be read without one; so once a count is over the limit this instance
 * remembers the lock until the window ends, and refuses the address before any database or
 * scrypt work. Another instance learns it from its own first failure.
 */
@Injectable()
export class ClientAuthFailures {
  private readonly logger = new Logger('Auth');
  /** `ip client` -> epoch ms the lock ends; insertion order is age order. */
  private readonly locks = new Map<string, number>();

  constructor(@Optional() @Inject(RATE_LIMIT_STORE) private readonly store?: RateLimitStore) {}

  /** Milliseconds the address must still wait for this client, or undefined when it may try. */
  lockedFor(clientId: string, ip: string): number | undefined {
    const key = lockKey(clientId, ip);
    const until = this.locks.get(key);
    if (until === undefined) return undefined;
    const left = until - this.now();
    if (left > 0) return left;
    this.locks.delete(key);
    return undefined;
  }

  /** Counts a failure; returns how long the address is now locked out, if it is. */
  async recordFailure(clientId: string, ip: string): Promise<number | undefined> {
    if (!this.store) return undefined;
    const key = lockKey(clientId, ip);
    let record;
    try {
      record = await this.store.increment(
        `auth-client-failures:${key}`,
        CLIENT_FAILURE_WINDOW_MS,
        CLIENT_FAILURE_LIMIT,
        CLIENT_FAILURE_WINDOW_MS,
        'auth-client-failures',
      );
    } catch (err) {
      // The request is refused anyway (401); an unreachable store only loses this count.
      if (!(err instanceof RateLimitStoreUnavailableError)) throw err;
      this.logger.warn('client failure not counted: the rate-limit store is unreachable');
      return undefined;
    }
    if (!record.isBlocked) return undefined;
    const left = Math.max(1, record.timeToExpireMs);
    this.remember(key, this.now() + left);
    return left;
  }

  protected now(): number {
    return Date.now();
  }

  private remember(key: string, until: number): void {
    // Every lock lasts about one window, so the oldest entry is also the first to end.
    setNewest(this.locks, key, until, MAX_LOCKS);
  }
}

/** The address first: it holds no space, so `ip client` is unambiguous. */
function lockKey(clientId: string, ip: string): string {
  return `${ipKey(ip)} ${clientId}`;
}
