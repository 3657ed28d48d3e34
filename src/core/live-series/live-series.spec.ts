import { describe, expect, it } from 'vitest';
import { LiveSeries, monotonicNow } from './live-series.js';

/** A series on a clock the test moves. */
function series(windowSeconds = 10, start = 1_000_000_000_000) {
  const clock = { now: start };
  const live = new LiveSeries({ windowSeconds, now: () => clock.now });
  const tick = (seconds = 1) => {
    clock.now += seconds * 1000;
  };
  return { live, clock, tick, startSecond: Math.floor(start / 1000) };
}

describe('LiveSeries', () => {
  it('counts calls, errors, rejections and tokens per second, once the second is complete', () => {
    const { live, tick, startSecond } = series();
    live.call(1, false);
    live.call(2, true);
    live.rejected();
    live.tokensUsed({ inputTokens: 10, outputTokens: 5 });
    live.tokensUsed({ totalTokens: 100, inputTokens: 1 });
    live.tokensUsed(undefined);
    expect(live.read().t).toEqual([]);
    tick();
    const points = live.read();
    expect(points.until).toBe(startSecond);
    expect(points.t).toEqual([startSecond]);
    expect(points.calls).toEqual([2]);
    expect(points.errors).toEqual([1]);
    expect(points.rejections).toEqual([1]);
    expect(points.tokens).toEqual([115]);
  });

  it('returns only the seconds after `since`, so a poller gets deltas', () => {
    const { live, tick, startSecond } = series();
    for (let i = 0; i < 4; i++) {
      live.call(1, false);
      tick();
    }
    expect(live.read().t).toEqual([0, 1, 2, 3].map((i) => startSecond + i));
    const first = live.read(startSecond + 1);
    expect(first.t).toEqual([startSecond + 2, startSecond + 3]);
    expect(live.read(first.until).t).toEqual([]);
    live.call(1, false);
    tick();
    expect(live.read(first.until).t).toEqual([startSecond + 4]);
  });

  it('reports p50 and p99 per second from its histogram', () => {
    const { live, tick } = series();
    for (let i = 0; i < 98; i++) live.call(0.9, false);
    live.call(7, false);
    live.call(300, false);
    tick();
    live.call(2.2, false);
    tick();
    tick();
    const points = live.read();
    expect(points.p50).toEqual([1, 2.2, null]);
    expect(points.p99).toEqual([8, 2.2, null]);
  });

  it('fills seconds in which nothing happened with zeros and the WebSockets still open', () => {
    const { live, tick } = series();
    live.websockets(1);
    live.websockets(2);
    live.websockets(1);
    tick(3);
    const points = live.read();
    expect(points.calls).toEqual([0, 0, 0]);
    // The peak of the first second, then the one still open.
    expect(points.websockets).toEqual([2, 1, 1]);
    expect(points.p50).toEqual([null, null, null]);
  });

  it('wraps around: keeps the last window of seconds, clearing what it overwrites', () => {
    const { live, tick, startSecond } = series(10);
    for (let i = 0; i < 25; i++) {
      for (let n = 0; n <= i; n++) live.call(1, false);
      tick();
    }
    const points = live.read();
    // The second being counted holds one slot: nine complete seconds are kept.
    expect(points.t).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24].map((i) => startSecond + i));
    expect(points.calls).toEqual([17, 18, 19, 20, 21, 22, 23, 24, 25]);
  });

  it('clears everything after a silence longer than the window', () => {
    const { live, tick, startSecond } = series(10);
    live.call(1, true);
    live.websockets(3);
    tick(1000);
    const points = live.read();
    expect(points.t[0]).toBe(startSecond + 991);
    expect(points.t).toHaveLength(9);
    expect(points.calls.every((n) => n === 0)).toBe(true);
    expect(points.errors.every((n) => n === 0)).toBe(true);
    expect(points.websockets.every((n) => n === 3)).toBe(true);
  });

  it('sums tokens over the trailing minute', () => {
    const { live, tick } = series(120);
    live.tokensUsed({ totalTokens: 10 });
    tick(30);
    live.tokensUsed({ totalTokens: 5 });
    tick(40);
    const points = live.read();
    const at = (offset: number) => points.tokensPerMinute[offset];
    expect(at(0)).toBe(10);
    expect(at(29)).toBe(10);
    expect(at(30)).toBe(15);
    expect(at(59)).toBe(15);
    // The first turn's tokens leave the minute 60 s later.
    expect(at(60)).toBe(5);
    expect(at(69)).toBe(5);
  });

  it('counts into the current second when the clock steps back', () => {
    const { live, clock, tick } = series();
    tick();
    live.read();
    clock.now -= 5000;
    live.call(1, false);
    clock.now += 5000;
    tick();
    expect(live.read().calls).toEqual([0, 1]);
  });

  it('counts a call at the time its caller read, without reading the clock again', () => {
    const clock = { now: 1_000_000_000_000, reads: 0 };
    const live = new LiveSeries({
      windowSeconds: 10,
      now: () => {
        clock.reads++;
        return clock.now;
      },
    });
    const reads = clock.reads;
    live.call(1, false, clock.now + 1000);
    expect(clock.reads).toBe(reads);
    clock.now += 2000;
    expect(live.read().t).toEqual([1_000_000_000, 1_000_000_001]);
    expect(live.read().calls).toEqual([0, 1]);
  });

  it('runs on the monotonic clock by default, in epoch seconds', () => {
    const points = new LiveSeries().read();
    expect(points.until).toBeGreaterThan(Date.now() / 1000 - 5);
    expect(points.until).toBeLessThan(Date.now() / 1000 + 5);
    expect(monotonicNow()).toBeCloseTo(performance.timeOrigin + performance.now(), -2);
  });

  it('holds a fixed amount of memory, whatever it counts', () => {
    const { live, tick } = series(600);
    const bytes = live.bytes;
    expect(bytes).toBeLessThan(256 * 1024);
    for (let i = 0; i < 2000; i++) {
      for (let n = 0; n < 50; n++) live.call(n * 3.7, n % 7 === 0);
      live.rejected();
      live.websockets(i % 40);
      tick();
    }
    expect(live.bytes).toBe(bytes);
    expect(live.read().t).toHaveLength(599);
  });

  it('ignores latencies it was not given and token counts that are not positive numbers', () => {
    const { live, tick } = series();
    live.call(Number.NaN, false);
    live.tokensUsed({ totalTokens: -5 });
    live.tokensUsed({ totalTokens: Number.NaN });
    tick();
    const points = live.read();
    expect(points.calls).toEqual([1]);
    expect(points.p50).toEqual([null]);
    expect(points.tokens).toEqual([0]);
  });

  it('refuses a window too small to hold a complete second', () => {
    expect(() => new LiveSeries({ windowSeconds: 1 })).toThrow(/windowSeconds/);
    expect(() => new LiveSeries({ windowSeconds: 2.5 })).toThrow(/windowSeconds/);
  });
});
