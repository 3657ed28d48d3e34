import type { OnModuleDestroy } from '@nestjs/common';
import {
  rateLimitRecord,
  type RateLimitRecord,
  type RateLimitStore,
  type RateLimitStoreState,
} from './rate-limit.store.js';

interface Window {
  count: number;
  expiresAt: number;
}

export interface MemoryRateLimitStoreOptions {
  /** Most keys tracked at once; beyond it expired windows go first, then the oldest. */
  maxKeys?: number;
  /** How often expired windows are swept (ms). */
  sweepInterval?: number;
  /** The clock, for tests. */
  now?: () => number;
}

export const DEFAULT_MAX_KEYS = 100_000;

/**
 * Fixed-window counters in one process: a Map from key to { count, expiresAt }, constant time per
 * hit. A Map iterates in insertion order and a window is re-inserted when it restarts, so the
 * first entries are the oldest windows: eviction at the bound takes them in O(1), and a periodic
 * sweep drops expired ones. Memory is bounded by maxKeys whatever the number of clients.
 */
export class MemoryRateLimitStore implements RateLimitStore, OnModuleDestroy {
  private readonly windows = new Map<string, Window>();
  private readonly maxKeys: number;
  private readonly sweepInterval: number;
  private readonly now: () => number;
  private lastSweep: number;
  private timer?: NodeJS.Timeout;
  /**
   * Where eviction resumes: a Map iterator follows deletions and insertions, and restarting one
   * from the front each time would walk the deleted slots again (O(n) a hit until V8 compacts).
   */
  private cursor?: MapIterator<string>;

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.maxKeys = Math.max(1, options.maxKeys ?? DEFAULT_MAX_KEYS);
    this.sweepInterval = options.sweepInterval ?? 10_000;
    this.now = options.now ?? Date.now;
    this.lastSweep = this.now();
    if (!options.now) {
      this.timer = setInterval(() => this.sweep(), this.sweepInterval);
      this.timer.unref();
    }
  }

  get size(): number {
    return this.windows.size;
  }

  increment(key: string, ttl: number, limit: number): Promise<RateLimitRecord> {
    return Promise.resolve(this.hit(key, ttl, limit));
  }

  /** The synchronous hit: concurrent calls (a batch) are counted exactly. */
  hit(key: string, ttl: number, limit: number): RateLimitRecord {
    const now = this.now();
    let window = this.windows.get(key);
    if (window && window.expiresAt <= now) {
      this.windows.delete(key);
      window = undefined;
    }
    if (!window) {
      this.makeRoom(now);
      window = { count: 0, expiresAt: now + ttl };
      this.windows.set(key, window);
    }
    window.count++;
    return rateLimitRecord(window.count, window.expiresAt - now, limit);
  }

  /** Drops every expired window. */
  sweep(now = this.now()): void {
    this.lastSweep = now;
    for (const [key, window] of this.windows) {
      if (window.expiresAt <= now) this.windows.delete(key);
    }
  }

  state(): RateLimitStoreState {
    return { store: 'memory', available: true, keys: this.windows.size };
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private makeRoom(now: number): void {
    if (this.windows.size < this.maxKeys) return;
    // A full sweep is O(n): at most once per interval, so a flood of new keys stays O(1) a hit.
    if (now - this.lastSweep >= this.sweepInterval) this.sweep(now);
    while (this.windows.size >= this.maxKeys) {
      let next = this.cursor?.next();
      if (!next || next.done) {
        this.cursor = this.windows.keys();
        next = this.cursor.next();
      }
      if (next.done) return;
      this.windows.delete(next.value);
    }
  }
}
