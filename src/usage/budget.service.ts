import { Injectable } from '@nestjs/common';
import type { BudgetsConfig, TokenBudgetConfig } from '../core/config/budgets-config.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { BudgetExceededException, type BudgetKind } from './budget-exceeded.exception.js';
import { windowReset, windowStart } from './budget-window.js';
import { TokenUsageStore, type UsageFilter } from './token-usage.store.js';
import { UsageClock } from './usage-clock.js';

/** Whose budget a turn spends: the session, its owner, its agent (with that agent's budgets). */
export interface BudgetScope {
  sessionKey: string;
  subject: string;
  agentId: string;
  /** The agent's own `budgets`, replacing the global ones kind by kind. */
  agentBudgets?: BudgetsConfig;
}

/**
 * Checks a turn against its token budgets before it runs, from the recorded usage (the same
 * table on every instance). A global subject budget counts the subject's tokens on every agent;
 * an agent's own subject budget counts only that agent's.
 */
@Injectable()
export class BudgetService {
  constructor(
    private readonly usage: TokenUsageStore,
    private readonly config: GatewayConfig,
    private readonly clock: UsageClock,
  ) {}

  /** Whether any budget applies to the scope's turns (without one, nothing is checked). */
  applies(scope: BudgetScope): boolean {
    const { session, subject } = this.config.budgets;
    const own = scope.agentBudgets;
    return Boolean(own?.session ?? session ?? own?.subject ?? subject);
  }

  /**
   * Throws BudgetExceededException when a budget is spent (used >= limit); otherwise answers the
   * tokens the turn may still use (the tightest budget's rest), or undefined without budgets.
   */
  async remaining(scope: BudgetScope): Promise<number | undefined> {
    const global = this.config.budgets;
    const own = scope.agentBudgets;
    const sessionBudget = own?.session ?? global.session;
    const subjectBudget = own?.subject ?? global.subject;
    const now = this.clock.now();
    const rests: number[] = [];
    if (sessionBudget) {
      rests.push(await this.rest('session', sessionBudget, { sessionKey: scope.sessionKey }, now));
    }
    if (subjectBudget) {
      const filter: UsageFilter = { subject: scope.subject };
      if (own?.subject) filter.agentId = scope.agentId;
      rests.push(await this.rest('subject', subjectBudget, filter, now));
    }
    return rests.length === 0 ? undefined : Math.min(...rests);
  }

  private async rest(
    kind: BudgetKind,
    budget: TokenBudgetConfig,
    filter: UsageFilter,
    now: number,
  ): Promise<number> {
    const since = budget.window === undefined ? undefined : windowStart(now, budget.window);
    const { totalTokens: used } = await this.usage.totals({ ...filter, since });
    if (used >= budget.tokens) {
      const resetAt =
        budget.window === undefined
          ? undefined
          : new Date(windowReset(now, budget.window)).toISOString();
      throw new BudgetExceededException(kind, used, budget.tokens, resetAt);
    }
    return budget.tokens - used;
  }
}
