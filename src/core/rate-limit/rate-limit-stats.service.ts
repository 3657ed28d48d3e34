import { Inject, Injectable } from '@nestjs/common';
import { LiveSeries } from '../live-series/live-series.js';
import {
  RATE_LIMIT_STORE,
  type RateLimitStore,
  type RateLimitStoreState,
} from './rate-limit.store.js';

export interface RateLimitStats {
  /** Refused calls (or connections) per limit name since boot. */
  rejections: Record<string, number>;
  /** Hits the store could not count (Redis unreachable) since boot. */
  storeFailures: number;
  store: RateLimitStoreState;
}

/** Counts what the limits refused, for /status and the live series. */
@Injectable()
export class RateLimitStatsService {
  private readonly rejections = new Map<string, number>();
  private storeFailures = 0;

  constructor(
    @Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore,
    private readonly live: LiveSeries = new LiveSeries(),
  ) {}

  rejected(limit: string): void {
    this.live.rejected();
    this.rejections.set(limit, (this.rejections.get(limit) ?? 0) + 1);
  }

  storeFailed(): void {
    this.storeFailures++;
  }

  snapshot(): RateLimitStats {
    return {
      rejections: Object.fromEntries(this.rejections),
      storeFailures: this.storeFailures,
      store: this.store.state(),
    };
  }
}
