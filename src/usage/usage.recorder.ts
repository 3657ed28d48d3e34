import { Injectable, Logger } from '@nestjs/common';
import { TokenUsageStore } from './token-usage.store.js';
import { UsageClock } from './usage-clock.js';
import { UsageMeter } from './usage.meter.js';
import type { TurnUsage } from './usage.types.js';

/** The turn a `message.agent` answered, and the usage it reported. */
export interface AnsweredTurn {
  sessionKey: string;
  seq: number;
  subject: string;
  agentId: string;
  /** Epoch ms; default now on the usage clock (the clock budget windows are measured in). */
  at?: number;
  /** As the agent reported it (`message.agent`'s `usage`); missing counts are 0. */
  usage?: { inputTokens?: number; outputTokens?: number; totalTokens?: number };
}

/**
 * Records a stored answer's token usage: the durable row budgets are checked against, and this
 * process's /metrics counters. A turn without usage (the echo agent) records nothing.
 */
@Injectable()
export class UsageRecorder {
  private readonly logger = new Logger('Usage');

  constructor(
    private readonly store: TokenUsageStore,
    private readonly meter: UsageMeter,
    private readonly clock: UsageClock,
  ) {}

  /**
   * Never throws: the answer is already stored and the client must get it. A row that could not
   * be written is logged; the numbers stay on the `message.agent` in the log.
   */
  async record(turn: AnsweredTurn): Promise<void> {
    const row = toTurnUsage(turn, turn.at ?? this.clock.now());
    if (row === undefined) return;
    try {
      // Counted on this instance's meter only when this call wrote the row.
      if (await this.store.record(row)) this.meter.count(row.agentId, row.subject, row);
    } catch (err) {
      this.logger.error(
        { err, sessionKey: turn.sessionKey, seq: turn.seq },
        'token usage not recorded',
      );
    }
  }
}

function toTurnUsage(turn: AnsweredTurn, at: number): TurnUsage | undefined {
  const usage = turn.usage;
  if (usage === undefined) return undefined;
  const inputTokens = count(usage.inputTokens);
  const outputTokens = count(usage.outputTokens);
  const totalTokens = count(usage.totalTokens ?? inputTokens + outputTokens);
  if (totalTokens === 0 && inputTokens === 0 && outputTokens === 0) return undefined;
  const { sessionKey, seq, subject, agentId } = turn;
  return { sessionKey, seq, subject, agentId, at, inputTokens, outputTokens, totalTokens };
}

/** A provider's count as a safe non-negative integer (providers are not trusted blindly). */
function count(value: number | undefined): number {
  if (value === undefined || !Number.isFinite(value) || value < 0) return 0;
  return Math.min(Math.floor(value), 2 ** 31 - 1);
}
