/** Token counts summed over some turns. */
export interface TokenTotals {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** The tokens of one answered turn, as recorded (one `message.agent`). */
export interface TurnUsage extends TokenTotals {
  sessionKey: string;
  /** The seq of the turn's `message.agent`: recording the same one twice counts it once. */
  seq: number;
  /** The session's owner: whose budget the turn spends, whoever sent the message. */
  subject: string;
  agentId: string;
  /** Epoch milliseconds. */
  at: number;
}

export const ZERO_TOTALS: Readonly<TokenTotals> = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  totalTokens: 0,
});
