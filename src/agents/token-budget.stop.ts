import type { StopCondition, ToolSet } from 'ai';

interface StepUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
}

/** Tokens one model call used: its total, or input + output when the provider gives no total. */
export function stepTokens(usage: StepUsage | undefined): number {
  if (usage === undefined) return 0;
  return usage.totalTokens ?? (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
}

/**
 * The AI SDK's multi-step loop asks its stop conditions after each step that called tools: once
 * the steps so far have used `budget` tokens, no further model call is made.
 */
export function tokenBudgetReached(budget: number): StopCondition<ToolSet> {
  return ({ steps }) => steps.reduce((sum, step) => sum + stepTokens(step.usage), 0) >= budget;
}
