import { Injectable } from '@nestjs/common';
import { AgentRegistry } from '../agents/agent.registry.js';
import { BudgetService } from '../usage/budget.service.js';
import type { KnownSession } from './session.directory.js';
import { SessionUsageHealer } from './session-usage.healer.js';

/**
 * A turn's token budget, asked under the session's lease before anything is stored: the usage of
 * the session's earlier turns is all recorded by then (the latest one recorded again from the log
 * if its process died before writing it), so a spent budget refuses the message (-32012) with
 * nothing stored or run.
 */
@Injectable()
export class SessionTurnBudget {
  constructor(
    private readonly agents: AgentRegistry,
    private readonly budgets: BudgetService,
    private readonly healer: SessionUsageHealer,
  ) {}

  /** The tokens the turn may use (undefined: no budget); throws BudgetExceededException. */
  async check(session: KnownSession): Promise<number | undefined> {
    const scope = {
      sessionKey: session.sessionKey,
      subject: session.ownerSubject,
      agentId: session.agentId,
      // An agent gone from the config fails its turn in the runner, as before, recorded.
      agentBudgets: this.agents.has(session.agentId)
        ? this.agents.get(session.agentId).budgets
        : undefined,
    };
    if (!this.budgets.applies(scope)) return undefined;
    await this.healer.heal(session);
    return this.budgets.remaining(scope);
  }
}
