import { Injectable } from '@nestjs/common';
import { GatewayConfig } from '../core/config/gateway-config.js';
import type { TokenCounter, TokenUsageReport } from '../core/health/token-usage.report.js';
import { TokenUsageStore } from './token-usage.store.js';
import { UsageMeter } from './usage.meter.js';

/** Token usage for /status (from the shared table: the whole cluster) and /metrics (this process). */
@Injectable()
export class UsageReport implements TokenUsageReport {
  constructor(
    private readonly store: TokenUsageStore,
    private readonly meter: UsageMeter,
    private readonly config: GatewayConfig,
  ) {}

  async status(): Promise<Record<string, unknown>> {
    const top = this.config.usage.topSubjects;
    const [totals, agents, subjects] = await Promise.all([
      this.store.lifetimeTotals(),
      this.store.lifetimeGrouped('agent'),
      this.store.lifetimeGrouped('subject', top),
    ]);
    return {
      totals,
      byAgent: Object.fromEntries(agents.map(({ key, ...sums }) => [key, sums])),
      // The largest consumers only: the list stays bounded however many subjects there are.
      topSubjects: subjects.map(({ key, ...sums }) => ({ subject: key, ...sums })),
    };
  }

  counters(): { agents: TokenCounter[]; subjects: TokenCounter[] } {
    return this.meter.snapshot();
  }
}
