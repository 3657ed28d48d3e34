import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { OutageLog } from '../logging/outage.log.js';
import { Redis } from 'ioredis';
import {
  rateLimitRecord,
  RateLimitStoreUnavailableError,
  type RateLimitRecord,
  type RateLimitStore,
  type RateLimitStoreState,
} from './rate-limit.store.js';

/**
 * One round trip, atomic: count the hit, start the window's expiry on its first hit, and report
 * the count and the time left. Every instance sharing the server sees one exact count.
 */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

type HitClient = Redis & {
  openclawRateLimitHit(key: string, ttl: number): Promise<[number, number]>;
};

export interface RedisRateLimitStoreOptions {
  url: string;
  /** Prefix of every key, so the gateway can share a Redis server. */
  prefix?: string;
  /** A command that takes longer counts as a failure (ms). */
  commandTimeout?: number;
}

/**
 * Fixed-window counters in Redis, for several instances. While the server is unreachable every
 * hit fails fast (no offline queue) with RateLimitStoreUnavailableError; the outage is logged
 * once when it starts and once when it ends.
 */
export class RedisRateLimitStore implements RateLimitStore, OnModuleDestroy {
  private readonly outage = new OutageLog(new Logger('RateLimit'), 'rate-limit store (Redis)');
  private readonly client: HitClient;
  private readonly prefix: string;

  constructor(options: RedisRateLimitStoreOptions) {
    this.prefix = options.prefix ?? 'openclaw:rl:';
    this.client = new Redis(options.url, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeout ?? 1000,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    }) as HitClient;
    this.client.defineCommand('openclawRateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.client.on('error', (err: Error) => this.markDown(err));
    this.client.on('ready', () => this.markUp());
  }

  async increment(key: string, ttl: number, limit: number): Promise<RateLimitRecord> {
    try {
      const [count, pttl] = await this.client.openclawRateLimitHit(this.prefix + key, ttl);
      this.markUp();
      return rateLimitRecord(count, pttl, limit);
    } catch (err) {
      this.markDown(err);
      throw new RateLimitStoreUnavailableError(err);
    }
  }

  state(): RateLimitStoreState {
    return { store: 'redis', ...this.outage.availability() };
  }

  async onModuleDestroy(): Promise<void> {
    this.client.removeAllListeners('error');
    this.client.on('error', () => undefined);
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private markDown(err: unknown): void {
    this.outage.failed(err);
  }

  private markUp(): void {
    this.outage.recovered();
  }
}
