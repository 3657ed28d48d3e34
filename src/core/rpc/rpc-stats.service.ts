import { Injectable } from '@nestjs/common';
import { LiveSeries } from '../live-series/live-series.js';

export interface MethodStats {
  calls: number;
  failures: number;
}

/**
 * Counts calls served and failed per method, and the calls in flight, for /status and shutdown;
 * each call also goes into the live series (/status/series) with its latency.
 */
@Injectable()
export class RpcStatsService {
  private readonly byMethod = new Map<string, MethodStats>();
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly live: LiveSeries = new LiveSeries()) {}

  /** A call starts; the time returned goes back to finished() to measure its latency. */
  started(): number {
    this.inFlight++;
    return performance.now();
  }

  /**
   * A call was answered. A refusal by a rate limit (`limited`) counts as a failure of its method
   * but not as an error in the live series, where the limits' own rejections are counted.
   */
  finished(method: string | undefined, failed: boolean, startedAt: number, limited = false): void {
    this.inFlight--;
    const now = performance.now();
    this.live.call(now - startedAt, failed && !limited, performance.timeOrigin + now);
    if (method !== undefined) {
      let stats = this.byMethod.get(method);
      if (!stats) this.byMethod.set(method, (stats = { calls: 0, failures: 0 }));
      stats.calls++;
      if (failed) stats.failures++;
    }
    if (this.inFlight === 0 && this.idleWaiters.length) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((resolve) => resolve());
    }
  }

  get callsInFlight(): number {
    return this.inFlight;
  }

  snapshot(): Record<string, MethodStats> {
    return Object.fromEntries([...this.byMethod].map(([name, stats]) => [name, { ...stats }]));
  }

  /** Resolves once no call is in flight, or after the deadline; true when idle. */
  async waitForIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const deadline = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([idle, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}
