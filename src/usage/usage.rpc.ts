import { Injectable } from '@nestjs/common';
import { METRICS_READ_SCOPE } from '../core/identity/caller.js';
import { RpcErrorCode } from '../core/rpc/rpc-error-code.js';
import { RpcMethod } from '../core/rpc/rpc-method.decorator.js';
import { TOKEN_TOTALS_SCHEMA } from './token-totals.schema.js';
import { UsageSummaryParams } from './usage-summary.params.js';
import { UsageSummaryService, type UsageSummary } from './usage-summary.service.js';

const POINT_SCHEMA = {
  type: 'object',
  required: ['at', 'inputTokens', 'outputTokens', 'totalTokens'],
  properties: { at: { type: 'string', format: 'date-time' }, ...TOKEN_TOTALS_SCHEMA.properties },
};

const series = (key: string) => ({
  type: 'object',
  required: [key, 'totals', 'points'],
  properties: {
    [key]: { type: 'string' },
    totals: TOKEN_TOTALS_SCHEMA,
    points: { type: 'array', items: POINT_SCHEMA },
  },
});

const USAGE_SUMMARY_SCHEMA = {
  type: 'object',
  required: ['since', 'until', 'bucket', 'totals', 'agents', 'subjects', 'otherSubjects'],
  properties: {
    since: { type: 'string', format: 'date-time' },
    until: { type: 'string', format: 'date-time' },
    bucket: { type: 'integer' },
    totals: TOKEN_TOTALS_SCHEMA,
    agents: { type: 'array', items: series('agentId') },
    subjects: { type: 'array', items: series('subject') },
    otherSubjects: TOKEN_TOTALS_SCHEMA,
  },
};

@Injectable()
export class UsageRpc {
  constructor(private readonly summaries: UsageSummaryService) {}

  @RpcMethod('usage.summary', {
    scope: METRICS_READ_SCOPE,
    params: UsageSummaryParams,
    description:
      'Token usage since `since` (default 24 h ago) in buckets of `bucket` ms (default 1 h): per agent and per top subject (usage.topSubjects; the rest as otherSubjects), across instances. Scope metrics:read or admin.',
    result: { name: 'UsageSummary', schema: USAGE_SUMMARY_SCHEMA },
    errors: [RpcErrorCode.InvalidParams],
  })
  summary(params: UsageSummaryParams): Promise<UsageSummary> {
    return this.summaries.summary(params);
  }
}
