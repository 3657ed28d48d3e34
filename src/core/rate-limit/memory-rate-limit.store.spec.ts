import { describe, expect, it } from 'vitest';
import { MemoryRateLimitStore } from './memory-rate-limit.store.js';

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('MemoryRateLimitStore', () => {
  it('counts every hit exactly and blocks from the hit after the limit', async () => {
    const time = clock();
    const store = new MemoryRateLimitStore({ now: time.now });
    const records = await Promise.all(
      Array.from({ length: 70 }, () => store.increment('k', 60_000, 60)),
    );
    expect(records.map((r) => r.totalHits)).toEqual(Array.from({ length: 70 }, (_, i) => i + 1));
    expect(records.filter((r) => !r.isBlocked)).toHaveLength(60);
    expect(records[60]).toMatchObject({ isBlocked: true, timeToExpire: 60, timeToBlockExpire: 60 });
  });

  it('reports the time left in the window and starts a new window when it ends', () => {
    const time = clock();
    const store = new MemoryRateLimitStore({ now: time.now });
    store.hit('k', 1000, 1);
    time.advance(400);
    expect(store.hit('k', 1000, 1)).toMatchObject({ isBlocked: true, timeToExpireMs: 600 });
    time.advance(600);
    expect(store.hit('k', 1000, 1)).toMatchObject({
      totalHits: 1,
      isBlocked: false,
      timeToExpireMs: 1000,
    });
  });

  it('keeps keys independent', () => {
    const store = new MemoryRateLimitStore({ now: clock().now });
    store.hit('a', 1000, 1);
    expect(store.hit('a', 1000, 1).isBlocked).toBe(true);
    expect(store.hit('b', 1000, 1).isBlocked).toBe(false);
  });

  it('stays within maxKeys with 100,000 distinct keys and more, evicting the oldest windows', () => {
    const time = clock();
    const store = new MemoryRateLimitStore({ now: time.now, maxKeys: 100_000 });
    for (let i = 0; i < 250_000; i++) {
      store.hit(`client-${i}`, 60_000, 60);
      if (i % 1000 === 0) time.advance(1);
    }
    expect(store.size).toBe(100_000);
    // The newest windows are kept: a recent client's count is intact.
    expect(store.hit('client-249999', 60_000, 60).totalHits).toBe(2);
    expect(store.hit('client-0', 60_000, 60).totalHits).toBe(1);
  });

  it('drops expired keys first when full, and on its sweep', () => {
    const time = clock();
    const store = new MemoryRateLimitStore({ now: time.now, maxKeys: 100_000, sweepInterval: 10 });
    for (let i = 0; i < 99_999; i++) store.hit(`old-${i}`, 1_000, 60);
    store.hit('live', 60_000, 60);
    time.advance(1_000);
    store.hit('new-1', 1_000, 60);
    // Full: the sweep took the 99,999 expired windows, not the live one.
    expect(store.size).toBe(2);
    expect(store.hit('live', 60_000, 60).totalHits).toBe(2);
    time.advance(60_000);
    store.sweep();
    expect(store.size).toBe(0);
    expect(store.state()).toEqual({ store: 'memory', available: true, keys: 0 });
  });

  it('keeps its heap bounded under a flood of distinct keys', () => {
    const store = new MemoryRateLimitStore({ now: clock().now, maxKeys: 100_000 });
    const fill = (from: number): void => {
      for (let i = from; i < from + 200_000; i++) store.hit(`flood-${i}`, 60_000, 60);
    };
    fill(0);
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let round = 1; round <= 5; round++) fill(round * 200_000);
    globalThis.gc?.();
    const grown = process.memoryUsage().heapUsed - before;
    expect(store.size).toBe(100_000);
    // A million more keys than the bound: growth well under what tracking them all would take.
    expect(grown).toBeLessThan(60 * 1024 * 1024);
  });
});
