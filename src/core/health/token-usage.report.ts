/** Token counts, as the usage feature reports them to /status and /metrics. */
export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** One labelled counter of this process: an agent id, or a subject (or "other"). */
export interface TokenCounter extends TokenCounts {
  label: string;
}

/**
 * What /status and /metrics show of token usage, provided by the usage feature (core never
 * imports a feature): absent, neither shows usage.
 */
export interface TokenUsageReport {
  /** The `usage` section of /status: cluster-wide totals per agent and the top subjects. */
  status(): Promise<Record<string, unknown>>;
  /** Tokens counted by this process since it started, with a bounded set of subject labels. */
  counters(): { agents: TokenCounter[]; subjects: TokenCounter[] };
}

export const TOKEN_USAGE_REPORT = Symbol('TOKEN_USAGE_REPORT');
