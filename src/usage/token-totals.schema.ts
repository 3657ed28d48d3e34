/** The result schema of a TokenTotals (`usage.summary`'s totals, `agent.status`'s usage). */
export const TOKEN_TOTALS_SCHEMA = {
  type: 'object',
  required: ['inputTokens', 'outputTokens', 'totalTokens'],
  properties: {
    inputTokens: { type: 'integer' },
    outputTokens: { type: 'integer' },
    totalTokens: { type: 'integer' },
  },
};
