import type { FinishReason } from '../agents/agent.types.js';
import { jsonBytes, jsonStringBytes, truncateToJsonBytes } from './event-size.js';

/**
 * Keeps a turn's answer within `sessions.maxEventBytes`, so its `message.agent` can be stored.
 * Streamed text past the cap is not forwarded and the agent is stopped (the caller aborts it
 * when `cut` turns true); the stored answer is cut to fit and finishes with 'length'.
 */
export class AgentOutputCap {
  /** The text streamed in the current step passed the cap: stop the agent. */
  cut = false;
  private stepBytes = 0;

  constructor(private readonly maxEventBytes: number) {}

  /** What to forward of a delta: all of it under the cap, the part that fits, then nothing. */
  delta(delta: string): string {
    if (this.cut) return '';
    const size = jsonStringBytes(delta);
    if (this.stepBytes + size <= this.maxEventBytes) {
      this.stepBytes += size;
      return delta;
    }
    this.cut = true;
    return truncateToJsonBytes(delta, this.maxEventBytes - this.stepBytes);
  }

  /** A tool call ends a step: the answer is the text of a later one. */
  stepEnded(): void {
    this.stepBytes = 0;
  }

  /**
   * The answer as stored: `data` (messageId, toolCalls, usage…) with `content` cut so that the
   * whole event fits, and finishReason 'length' when anything was cut. `cancelled` wins when the
   * turn was cancelled from outside.
   */
  finish(
    data: Record<string, unknown>,
    content: string,
    finishReason: FinishReason,
    cancelled: boolean,
  ): Record<string, unknown> {
    const budget = this.maxEventBytes - jsonBytes({ ...data, content: '', finishReason: 'length' });
    const fits = jsonStringBytes(content) <= budget;
    const stored = fits ? content : truncateToJsonBytes(content, Math.max(0, budget));
    const reason: FinishReason =
      cancelled && finishReason === 'cancelled'
        ? 'cancelled'
        : this.cut || !fits
          ? 'length'
          : finishReason;
    return { ...data, content: stored, finishReason: reason };
  }
}
