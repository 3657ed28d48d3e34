import type { LiveSeriesPoints } from '../../src/core/live-series/live-series.js';

/** GET /status/series: the complete seconds after `since`, as columns (see the README). */
export type SeriesColumns = Omit<LiveSeriesPoints, 'resolutionSeconds' | 'windowSeconds' | 'until'>;

/** The server's answer: its points and the instance that measured them. */
export type SeriesAnswer = LiveSeriesPoints & { instanceId: string };

const COLUMNS: (keyof SeriesColumns)[] = [
  't',
  'calls',
  'errors',
  'rejections',
  'p50',
  'p99',
  'websockets',
  'tokens',
  'tokensPerMinute',
];

/** What the Overview holds: the window it has seen, and where the next poll starts. */
export interface HeldSeries extends SeriesColumns {
  instanceId: string;
  /** The server's window (0 before the first answer). */
  windowSeconds: number;
  until: number;
}

export function emptySeries(): HeldSeries {
  return {
    instanceId: '',
    windowSeconds: 0,
    until: 0,
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
}

/**
 * The series after a poll's answer: its points appended, those older than the window dropped.
 * An answer from another instance (a load balancer moved us) starts the series over, since
 * its seconds would interleave with the ones held. Returns new arrays, so a chart sees a change.
 */
export function mergeSeries(held: HeldSeries, answer: SeriesAnswer): HeldSeries {
  const base = held.instanceId === answer.instanceId ? held : emptySeries();
  const since = answer.until - answer.windowSeconds;
  const next: HeldSeries = {
    ...emptySeries(),
    instanceId: answer.instanceId,
    windowSeconds: answer.windowSeconds,
    until: answer.until,
  };
  const keepFrom = base.t.findIndex((t) => t > since);
  const kept = keepFrom < 0 ? base.t.length : keepFrom;
  for (const column of COLUMNS) {
    // The cast keeps one loop for columns of numbers and of numbers-or-null.
    (next[column] as (number | null)[]) = [
      ...(base[column] as (number | null)[]).slice(kept),
      ...(answer[column] as (number | null)[]),
    ];
  }
  return next;
}
