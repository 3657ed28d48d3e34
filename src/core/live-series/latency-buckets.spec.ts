import { describe, expect, it } from 'vitest';
import {
  LATENCY_BOUNDS_MS,
  LATENCY_BUCKETS,
  latencyBucket,
  latencyQuantile,
} from './latency-buckets.js';

/** A histogram row with the latencies counted, and the largest of them. */
function row(latencies: number[]): { counts: Uint32Array; max: number } {
  const counts = new Uint32Array(LATENCY_BUCKETS);
  for (const ms of latencies) counts[latencyBucket(ms)]++;
  return { counts, max: Math.max(0, ...latencies) };
}

/** The bucket's upper bound (the overflow bucket has none). */
const upperBound = (ms: number) => LATENCY_BOUNDS_MS[latencyBucket(ms)];

describe('latency buckets', () => {
  it('are ascending, from 10 µs to 100 s', () => {
    expect(LATENCY_BOUNDS_MS[0]).toBe(0.01);
    expect(LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]).toBe(100_000);
    for (let i = 1; i < LATENCY_BOUNDS_MS.length; i++) {
      expect(LATENCY_BOUNDS_MS[i]).toBeGreaterThan(LATENCY_BOUNDS_MS[i - 1]);
      // Each bucket is at most a third wider than the one below: the error bound of a percentile.
      expect(LATENCY_BOUNDS_MS[i] / LATENCY_BOUNDS_MS[i - 1]).toBeLessThanOrEqual(4 / 3 + 1e-9);
    }
  });

  it('put a latency in the first bucket whose upper bound holds it, bounds included', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(0.01)).toBe(0);
    expect(latencyBucket(0.0101)).toBe(1);
    expect(LATENCY_BOUNDS_MS[latencyBucket(1)]).toBe(1);
    expect(LATENCY_BOUNDS_MS[latencyBucket(1.01)]).toBe(1.25);
    expect(LATENCY_BOUNDS_MS[latencyBucket(7)]).toBe(8);
    expect(latencyBucket(100_000.5)).toBe(LATENCY_BUCKETS - 1);
    expect(latencyBucket(Infinity)).toBe(LATENCY_BUCKETS - 1);
  });

  it('give percentiles exact to the bucket: the upper bound of the bucket holding the rank', () => {
    // 100 calls: 98 of 1.1 ms, one of 7 ms, one of 40 ms.
    const { counts, max } = row([...Array<number>(98).fill(1.1), 7, 40]);
    expect(latencyQuantile(counts, 0, 0.5, max)).toBe(1.25);
    // The 99th is the 7 ms call, in the (6, 8] bucket.
    expect(latencyQuantile(counts, 0, 0.99, max)).toBe(8);
    expect(latencyQuantile(counts, 0, 1, max)).toBe(40);
  });

  it('never answer above the largest latency seen', () => {
    const { counts, max } = row([2.6, 2.7]);
    expect(upperBound(2.7)).toBe(3);
    expect(latencyQuantile(counts, 0, 0.5, max)).toBe(2.7);
  });

  it('answer the largest latency for the overflow bucket', () => {
    const { counts, max } = row([5, 250_000]);
    expect(latencyQuantile(counts, 0, 0.99, max)).toBe(250_000);
  });

  it('answer null for an empty row, and read the row at its offset', () => {
    const counts = new Uint32Array(LATENCY_BUCKETS * 2);
    expect(latencyQuantile(counts, 0, 0.5, 0)).toBeNull();
    counts[LATENCY_BUCKETS + latencyBucket(3)] = 4;
    expect(latencyQuantile(counts, 0, 0.5, 3)).toBeNull();
    expect(latencyQuantile(counts, LATENCY_BUCKETS, 0.5, 3)).toBe(3);
  });

  it('do not round a rank up when q × n is a whole number', () => {
    for (const n of [100, 200, 300, 700, 1000, 2900]) {
      const latencies = [
        ...Array<number>(Math.round(n * 0.99)).fill(1),
        ...Array<number>(n - Math.round(n * 0.99)).fill(50),
      ];
      const { counts, max } = row(latencies);
      expect(latencyQuantile(counts, 0, 0.99, max)).toBe(1);
    }
  });
});
