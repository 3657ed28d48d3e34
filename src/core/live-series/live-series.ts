import { LATENCY_BUCKETS, latencyBucket, latencyQuantile } from './latency-buckets.js';

/** Epoch milliseconds on the monotonic clock: performance.now() from the process's start. */
export function monotonicNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Ten minutes at one point a second. */
export const DEFAULT_WINDOW_SECONDS = 600;
const TOKENS_MINUTE = 60;

/** Model token counts as agents report them (any of the three). */
export interface TokenUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
}

/**
 * Complete seconds of the series, as columns (one entry per second, oldest first), which is the
 * shape a chart plots. `until` is the last complete second: the next poll asks `since=until`.
 */
export interface LiveSeriesPoints {
  resolutionSeconds: 1;
  windowSeconds: number;
  until: number;
  t: number[];
  calls: number[];
  errors: number[];
  rejections: number[];
  /** Latency percentiles in ms, to the bucket (see latency-buckets.ts); null without calls. */
  p50: (number | null)[];
  p99: (number | null)[];
  /** Open WebSockets: the most open at once during the second. */
  websockets: number[];
  /** Model tokens of turns finished during the second. */
  tokens: number[];
  /** Model tokens of turns finished during the 60 seconds up to this one (as far as kept). */
  tokensPerMinute: number[];
}

export interface LiveSeriesOptions {
  windowSeconds?: number;
  /**
   * Milliseconds since the epoch; a test passes its own clock. By default the monotonic clock
   * anchored at the process's start, so that a caller that has just read performance.now() for
   * a latency can pass that reading instead of paying for a second clock read.
   */
  now?: () => number;
}

/**
 * This process's activity over the last minutes, one slot a second in a ring of typed arrays
 * allocated once: memory is fixed by the window, and counting a call is a clock read, a bucket
 * search and a few increments. A slot is cleared when its second comes round again; seconds in
 * which nothing happened are filled when time next moves (nothing changed in them, so the open
 * WebSockets then were those open now).
 */
export class LiveSeries {
  readonly windowSeconds: number;
  private readonly now: () => number;
  private readonly second: Float64Array;
  private readonly calls: Uint32Array;
  private readonly errors: Uint32Array;
  private readonly rejections: Uint32Array;
  private readonly websocketPeak: Uint32Array;
  private readonly tokens: Float64Array;
  private readonly maxLatency: Float64Array;
  private readonly latency: Uint32Array;
  /** The second being counted, its slot, and when the next one starts (ms). */
  private head: number;
  private slot: number;
  private nextSecondAt: number;
  private openWebsockets = 0;

  constructor(options: LiveSeriesOptions = {}) {
    const window = options.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
    if (!Number.isInteger(window) || window < 2) {
      throw new RangeError(`windowSeconds must be an integer of at least 2, got ${window}`);
    }
    this.windowSeconds = window;
    this.now = options.now ?? monotonicNow;
    this.second = new Float64Array(window).fill(-1);
    this.calls = new Uint32Array(window);
    this.errors = new Uint32Array(window);
    this.rejections = new Uint32Array(window);
    this.websocketPeak = new Uint32Array(window);
    this.tokens = new Float64Array(window);
    this.maxLatency = new Float64Array(window);
    this.latency = new Uint32Array(window * LATENCY_BUCKETS);
    this.head = Math.floor(this.now() / 1000);
    this.slot = this.head % window;
    this.second[this.slot] = this.head;
    this.nextSecondAt = (this.head + 1) * 1000;
  }

  /** Bytes held by the series: fixed at construction, whatever is counted. */
  get bytes(): number {
    return [
      this.second,
      this.calls,
      this.errors,
      this.rejections,
      this.websocketPeak,
      this.tokens,
      this.maxLatency,
      this.latency,
    ].reduce((sum, array) => sum + array.byteLength, 0);
  }

  /**
   * A call answered after `latencyMs` (NaN when not measured); `failed` counts it as an error.
   * `at` is when it was answered, on this series' clock (see LiveSeriesOptions.now).
   */
  call(latencyMs: number, failed: boolean, at = this.now()): void {
    const slot = this.current(at);
    this.calls[slot]++;
    if (failed) this.errors[slot]++;
    if (latencyMs >= 0) {
      this.latency[slot * LATENCY_BUCKETS + latencyBucket(latencyMs)]++;
      if (latencyMs > this.maxLatency[slot]) this.maxLatency[slot] = latencyMs;
    }
  }

  /** A call or connection refused by a rate limit. */
  rejected(): void {
    this.rejections[this.current()]++;
  }

  /** The number of WebSockets open now, after one opened or closed. */
  websockets(open: number): void {
    const slot = this.current();
    this.openWebsockets = open;
    if (open > this.websocketPeak[slot]) this.websocketPeak[slot] = open;
  }

  /** The model tokens of a finished turn: the total, else input plus output. */
  tokensUsed(usage: TokenUsage | undefined): void {
    if (!usage) return;
    const total = usage.totalTokens ?? (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
    if (Number.isFinite(total) && total > 0) this.tokens[this.current()] += total;
  }

  /**
   * The complete seconds after `since` (unix seconds) still in the window; the second being
   * counted is left out, so a point once read never changes. At most windowSeconds - 1 points.
   */
  read(since = 0): LiveSeriesPoints {
    this.current();
    const window = this.windowSeconds;
    const until = this.head - 1;
    const oldest = this.head - window + 1;
    const points: LiveSeriesPoints = {
      resolutionSeconds: 1,
      windowSeconds: window,
      until,
      t: [],
      calls: [],
      errors: [],
      rejections: [],
      p50: [],
      p99: [],
      websockets: [],
      tokens: [],
      tokensPerMinute: [],
    };
    let tokensInMinute = 0;
    for (let second = oldest; second <= until; second++) {
      const slot = second % window;
      // Seconds before the series began hold nothing, and are not shown.
      if (this.second[slot] !== second) continue;
      tokensInMinute += this.tokens[slot];
      const leaving = second - TOKENS_MINUTE;
      if (leaving >= oldest && this.second[leaving % window] === leaving) {
        tokensInMinute -= this.tokens[leaving % window];
      }
      if (second <= since) continue;
      const calls = this.calls[slot];
      const offset = slot * LATENCY_BUCKETS;
      const max = this.maxLatency[slot];
      points.t.push(second);
      points.calls.push(calls);
      points.errors.push(this.errors[slot]);
      points.rejections.push(this.rejections[slot]);
      points.p50.push(latencyQuantile(this.latency, offset, 0.5, max));
      points.p99.push(latencyQuantile(this.latency, offset, 0.99, max));
      points.websockets.push(this.websocketPeak[slot]);
      points.tokens.push(this.tokens[slot]);
      points.tokensPerMinute.push(tokensInMinute);
    }
    return points;
  }

  /** The slot of the second now, moving the ring on (and clearing what it passes) when needed. */
  private current(now = this.now()): number {
    if (now < this.nextSecondAt) return this.slot;
    const second = Math.floor(now / 1000);
    // More than a window later, every slot is stale: clear each once, not once per second passed.
    for (
      let next = Math.max(this.head + 1, second - this.windowSeconds + 1);
      next <= second;
      next++
    ) {
      this.clear(next % this.windowSeconds, next);
    }
    this.head = second;
    this.slot = second % this.windowSeconds;
    this.nextSecondAt = (second + 1) * 1000;
    return this.slot;
  }

  private clear(slot: number, second: number): void {
    this.second[slot] = second;
    this.calls[slot] = 0;
    this.errors[slot] = 0;
    this.rejections[slot] = 0;
    this.websocketPeak[slot] = this.openWebsockets;
    this.tokens[slot] = 0;
    this.maxLatency[slot] = 0;
    this.latency.fill(0, slot * LATENCY_BUCKETS, (slot + 1) * LATENCY_BUCKETS);
  }
}
