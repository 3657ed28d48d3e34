/**
 * Fixed latency buckets (upper bounds in ms): ten per decade (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6,
 * 8 times a power of ten) from 10 µs to 100 s, then one overflow bucket. A percentile read from
 * them is the upper bound of the bucket that holds it, so it is at most a third above the true value:
 * enough for a chart, and counting a call is one binary search and one increment.
 */
const STEPS = [1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8];
const FIRST_DECADE = -2;
const LAST_DECADE = 4;

function bounds(): Float64Array {
  const values: number[] = [];
  for (let decade = FIRST_DECADE; decade <= LAST_DECADE; decade++) {
    for (const step of STEPS) values.push(Number((step * 10 ** decade).toPrecision(3)));
  }
  values.push(10 ** (LAST_DECADE + 1));
  return Float64Array.from(values);
}

export const LATENCY_BOUNDS_MS: Float64Array = bounds();

/** Buckets per second: the bounded ones and the overflow one. */
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;

/** The bucket of a latency: the first whose upper bound is at least `ms`, else the overflow. */
export function latencyBucket(ms: number): number {
  let low = 0;
  let high = LATENCY_BOUNDS_MS.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (ms <= LATENCY_BOUNDS_MS[mid]) high = mid;
    else low = mid + 1;
  }
  return low;
}

/**
 * The q-quantile (0 < q ≤ 1) of the latencies counted in the row `counts[offset …]`: the upper
 * bound of the bucket holding the ceil(q·n)-th smallest, never above the largest seen (`max`,
 * which also answers for the overflow bucket). Null when the row is empty.
 */
export function latencyQuantile(
  counts: Uint32Array,
  offset: number,
  q: number,
  max: number,
): number | null {
  let total = 0;
  for (let bucket = 0; bucket < LATENCY_BUCKETS; bucket++) total += counts[offset + bucket];
  if (total === 0) return null;
  // The epsilon keeps a float product like 0.99 × 300 from rounding up a rank.
  const rank = Math.max(1, Math.ceil(q * total - 1e-9));
  let seen = 0;
  for (let bucket = 0; bucket < LATENCY_BOUNDS_MS.length; bucket++) {
    seen += counts[offset + bucket];
    if (seen >= rank) return Math.min(LATENCY_BOUNDS_MS[bucket], max);
  }
  return max;
}
