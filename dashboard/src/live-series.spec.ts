import { describe, expect, it } from 'vitest';
import { emptySeries, mergeSeries, type SeriesAnswer } from './live-series';

/** An answer holding the given seconds, each with `calls` = its offset in the list. */
function answer(seconds: number[], overrides: Partial<SeriesAnswer> = {}): SeriesAnswer {
  return {
    instanceId: 'a',
    resolutionSeconds: 1,
    windowSeconds: 5,
    until: seconds.at(-1) ?? 0,
    t: seconds,
    calls: seconds.map((_, i) => i),
    errors: seconds.map(() => 0),
    rejections: seconds.map(() => 0),
    p50: seconds.map(() => null),
    p99: seconds.map(() => 1),
    websockets: seconds.map(() => 2),
    tokens: seconds.map(() => 0),
    tokensPerMinute: seconds.map(() => 0),
    ...overrides,
  };
}

describe('mergeSeries', () => {
  it('appends the seconds of each poll and remembers where the next one starts', () => {
    let held = mergeSeries(emptySeries(), answer([100, 101]));
    held = mergeSeries(held, answer([102]));
    expect(held.t).toEqual([100, 101, 102]);
    expect(held.calls).toEqual([0, 1, 0]);
    expect(held.p50).toEqual([null, null, null]);
    expect(held.until).toBe(102);
    expect(held.windowSeconds).toBe(5);
  });

  it('keeps only the window', () => {
    let held = mergeSeries(emptySeries(), answer([100, 101, 102, 103]));
    held = mergeSeries(held, answer([104, 105, 106]));
    expect(held.t).toEqual([102, 103, 104, 105, 106]);
    expect(held.websockets).toHaveLength(5);
  });

  it('moves the start on even when a poll brings no point', () => {
    const held = mergeSeries(mergeSeries(emptySeries(), answer([100])), answer([], { until: 130 }));
    expect(held.t).toEqual([]);
    expect(held.until).toBe(130);
  });

  it('starts over when another instance answers', () => {
    const held = mergeSeries(
      mergeSeries(emptySeries(), answer([100, 101])),
      answer([101], { instanceId: 'b' }),
    );
    expect(held.t).toEqual([101]);
    expect(held.instanceId).toBe('b');
  });

  it('returns new arrays, so a chart watching them sees the change', () => {
    const first = mergeSeries(emptySeries(), answer([100]));
    const second = mergeSeries(first, answer([101]));
    expect(second.t).not.toBe(first.t);
    expect(first.t).toEqual([100]);
  });
});
