import { Injectable } from '@nestjs/common';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { GatewayErrorCode } from '../core/errors/gateway-error-code.js';
import { GatewayException } from '../core/errors/gateway.exception.js';
import { windowStart } from './budget-window.js';
import { TokenUsageStore, type UsageBucketRow } from './token-usage.store.js';
import { UsageClock } from './usage-clock.js';
import type { UsageSummaryParams } from './usage-summary.params.js';
import type { TokenTotals } from './usage.types.js';

/** The most buckets one summary may hold: a dashboard chart, not an export. */
export const MAX_BUCKETS = 1000;

const DAY_MS = 86_400_000;

export interface UsagePoint extends TokenTotals {
  /** ISO 8601: the bucket's start. */
  at: string;
}

export interface UsageSeries {
  totals: TokenTotals;
  points: UsagePoint[];
}

export interface UsageSummary {
  since: string;
  until: string;
  bucket: number;
  totals: TokenTotals;
  agents: Array<UsageSeries & { agentId: string }>;
  /** The `usage.topSubjects` subjects that used the most in the range. */
  subjects: Array<UsageSeries & { subject: string }>;
  /** Every other subject's tokens in the range, together. */
  otherSubjects: TokenTotals;
}

/** `usage.summary`: tokens per agent and per (top) subject over time, for the dashboard. */
@Injectable()
export class UsageSummaryService {
  constructor(
    private readonly store: TokenUsageStore,
    private readonly config: GatewayConfig,
    private readonly clock: UsageClock,
  ) {}

  async summary(params: UsageSummaryParams): Promise<UsageSummary> {
    const bucket = params.bucket ?? 3_600_000;
    const now = this.clock.now();
    const requested = params.since === undefined ? now - DAY_MS : Date.parse(params.since);
    const since = windowStart(Math.min(requested, now), bucket);
    if (!Number.isFinite(since) || (now - since) / bucket > MAX_BUCKETS) {
      throw new GatewayException(
        GatewayErrorCode.INVALID_INPUT,
        `since must be a real date, and the range at most ${MAX_BUCKETS} buckets (choose a later since or a wider bucket)`,
        { violations: [{ path: 'since', message: `at most ${MAX_BUCKETS} buckets` }] },
      );
    }
    const [totals, agentTotals, top] = await Promise.all([
      this.store.totals({ since }),
      this.store.grouped('agent', { since }),
      this.store.grouped('subject', { since }, this.config.usage.topSubjects),
    ]);
    const subjectKeys = top.map((row) => row.key);
    const [agentRows, subjectRows] = await Promise.all([
      this.store.series('agent', since, bucket),
      this.store.series('subject', since, bucket, subjectKeys),
    ]);
    const agentPoints = pointsByKey(agentRows);
    const subjectPoints = pointsByKey(subjectRows);
    const topSum = top.reduce((sum, row) => addTotals(sum, row), zero());
    return {
      since: new Date(since).toISOString(),
      until: new Date(now).toISOString(),
      bucket,
      totals,
      agents: agentTotals.map(({ key, ...sums }) => ({
        agentId: key,
        totals: sums,
        points: agentPoints.get(key) ?? [],
      })),
      subjects: top.map(({ key, ...sums }) => ({
        subject: key,
        totals: sums,
        points: subjectPoints.get(key) ?? [],
      })),
      otherSubjects: {
        inputTokens: totals.inputTokens - topSum.inputTokens,
        outputTokens: totals.outputTokens - topSum.outputTokens,
        totalTokens: totals.totalTokens - topSum.totalTokens,
      },
    };
  }
}

function pointsByKey(rows: UsageBucketRow[]): Map<string, UsagePoint[]> {
  const byKey = new Map<string, UsagePoint[]>();
  for (const { key, bucket, ...sums } of rows) {
    const points = byKey.get(key) ?? [];
    points.push({ at: new Date(bucket).toISOString(), ...sums });
    byKey.set(key, points);
  }
  return byKey;
}

function zero(): TokenTotals {
  return { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
}

function addTotals(a: TokenTotals, b: TokenTotals): TokenTotals {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
  };
}
