import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { OutageLog } from '../logging/outage.log.js';
import pg from 'pg';
import { PostgresHitBatcher, type HitPair } from './postgres-hit.batcher.js';
import {
  rateLimitRecord,
  RateLimitStoreUnavailableError,
  type PairedHit,
  type RateLimitRecord,
  type RateLimitStore,
  type RateLimitStoreState,
} from './rate-limit.store.js';

const PURGE_SQL = `DELETE FROM "rate_limit_counters" WHERE "window_ends_at" < clock_timestamp() - interval '1 minute'`;

export interface PostgresRateLimitStoreOptions {
  url: string;
  /** A hit that takes longer counts as a failure (ms). */
  queryTimeout?: number;
  /** How often windows long over are deleted (ms). */
  purgeInterval?: number;
}

/**
 * Fixed-window counters in PostgreSQL, for several instances without Redis. A small pool of its
 * own keeps limit checks from queueing behind event-log writes. While the database is unreachable
 * every hit fails fast with RateLimitStoreUnavailableError, logged once per outage.
 */
export class PostgresRateLimitStore implements RateLimitStore, OnModuleDestroy {
  private readonly outage = new OutageLog(new Logger('RateLimit'), 'rate-limit store (PostgreSQL)');
  private readonly pool: pg.Pool;
  /** The hits of one turn of the event loop go in one statement. */
  readonly batcher: PostgresHitBatcher;
  private readonly purgeTimer: NodeJS.Timeout;
  /** While down, the database is probed so that readiness returns without waiting for a call. */
  private probe?: NodeJS.Timeout;

  constructor(options: PostgresRateLimitStoreOptions) {
    const timeout = options.queryTimeout ?? 1000;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: 4,
      connectionTimeoutMillis: timeout,
      query_timeout: timeout,
    });
    this.pool.on('error', (err) => this.markDown(err));
    this.batcher = new PostgresHitBatcher(this.pool);
    this.purgeTimer = setInterval(() => {
      this.pool.query(PURGE_SQL).catch((err: unknown) => this.markDown(err));
    }, options.purgeInterval ?? 60_000).unref();
  }

  async increment(key: string, ttl: number, limit: number): Promise<RateLimitRecord> {
    const { first } = await this.count(this.batcher.hit({ key, ttl, limit }));
    return rateLimitRecord(first.hits, first.ttlMs, limit);
  }

  async incrementPair(
    first: PairedHit,
    second: PairedHit,
  ): Promise<[RateLimitRecord, RateLimitRecord?]> {
    if (first.key === second.key) {
      // One row cannot be counted twice in one statement: one hit after the other.
      const one = await this.increment(first.key, first.ttl, first.limit);
      if (one.isBlocked) return [one];
      return [one, await this.increment(second.key, second.ttl, second.limit)];
    }
    const pair = await this.count(this.batcher.hit(first, second));
    const records: [RateLimitRecord, RateLimitRecord?] = [
      rateLimitRecord(pair.first.hits, pair.first.ttlMs, first.limit),
    ];
    if (pair.second)
      records.push(rateLimitRecord(pair.second.hits, pair.second.ttlMs, second.limit));
    return records;
  }

  private async count(hit: Promise<HitPair>): Promise<HitPair> {
    try {
      const pair = await hit;
      this.markUp();
      return pair;
    } catch (err) {
      this.markDown(err);
      throw new RateLimitStoreUnavailableError(err);
    }
  }

  state(): RateLimitStoreState {
    return { store: 'postgres', ...this.outage.availability() };
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.purgeTimer);
    clearInterval(this.probe);
    await this.pool.end().catch(() => undefined);
  }

  private markDown(err: unknown): void {
    if (!this.outage.failed(err)) return;
    this.probe = setInterval(() => {
      this.pool.query('SELECT 1').then(
        () => this.markUp(),
        () => undefined,
      );
    }, 1000).unref();
  }

  private markUp(): void {
    if (!this.outage.recovered()) return;
    clearInterval(this.probe);
    this.probe = undefined;
  }
}
