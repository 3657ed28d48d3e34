export interface BackoffOptions {
  /** The first delay (ms); it doubles with each failed attempt. */
  initialDelayMs: number;
  /** The longest delay (ms). */
  maxDelayMs: number;
}

/**
 * The delay before reconnect attempt `attempt` (0 first): exponential, with "equal jitter" (half
 * fixed, half random) so that clients cut by the same restart do not all come back at once,
 * while none retries at once in a tight loop.
 */
export function backoffDelay(
  attempt: number,
  { initialDelayMs, maxDelayMs }: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
