import { Injectable } from '@nestjs/common';
import { GatewayConfig } from '../core/config/gateway-config.js';
import type { TokenCounter } from '../core/health/token-usage.report.js';
import type { TokenTotals } from './usage.types.js';

/** The label of every subject past the first `usage.topSubjects` this process has counted. */
export const OTHER_SUBJECTS = 'other';

/**
 * This process's token counters for /metrics. Agents are few (configured); subjects are not, so
 * only the first `usage.topSubjects` subjects seen get a label of their own and the rest add up
 * under "other": a flood of subjects cannot grow the label set. Counters only grow, as
 * Prometheus expects; summed over instances they give the cluster's tokens.
 */
@Injectable()
export class UsageMeter {
  private readonly agents = new Map<string, TokenTotals>();
  private readonly subjects = new Map<string, TokenTotals>();

  constructor(private readonly config: GatewayConfig) {}

  count(agentId: string, subject: string, tokens: TokenTotals): void {
    add(this.agents, agentId, tokens);
    const labelled =
      this.subjects.has(subject) || this.subjects.size < this.config.usage.topSubjects;
    add(this.subjects, labelled ? subject : OTHER_SUBJECTS, tokens);
  }

  snapshot(): { agents: TokenCounter[]; subjects: TokenCounter[] } {
    return { agents: counters(this.agents), subjects: counters(this.subjects) };
  }
}

function add(map: Map<string, TokenTotals>, key: string, tokens: TokenTotals): void {
  const current = map.get(key) ?? { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  map.set(key, {
    inputTokens: current.inputTokens + tokens.inputTokens,
    outputTokens: current.outputTokens + tokens.outputTokens,
    totalTokens: current.totalTokens + tokens.totalTokens,
  });
}

function counters(map: Map<string, TokenTotals>): TokenCounter[] {
  return [...map].map(([label, totals]) => ({ label, ...totals }));
}
