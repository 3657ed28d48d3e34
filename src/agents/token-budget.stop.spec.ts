import { describe, expect, it } from 'vitest';
import type { StepResult, ToolSet } from 'ai';
import { stepTokens, tokenBudgetReached } from './token-budget.stop.js';

const step = (usage: Record<string, number | undefined>) =>
  ({ usage }) as unknown as StepResult<ToolSet>;

describe('token budget stop condition', () => {
  it('counts a step by its total, else by input + output', () => {
    expect(stepTokens({ inputTokens: 7, outputTokens: 3, totalTokens: 12 })).toBe(12);
    expect(stepTokens({ inputTokens: 7, outputTokens: 3 })).toBe(10);
    expect(stepTokens({})).toBe(0);
    expect(stepTokens(undefined)).toBe(0);
  });

  it('stops once the steps so far have used the budget, not before', async () => {
    const reached = tokenBudgetReached(20);
    expect(await reached({ steps: [step({ totalTokens: 10 })] })).toBe(false);
    expect(await reached({ steps: [step({ totalTokens: 10 }), step({ totalTokens: 9 })] })).toBe(
      false,
    );
    expect(
      await reached({
        steps: [step({ totalTokens: 10 }), step({ inputTokens: 8, outputTokens: 2 })],
      }),
    ).toBe(true);
  });
});
