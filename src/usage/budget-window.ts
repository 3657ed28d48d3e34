/**
 * Fixed windows aligned to the Unix epoch (UTC): the window holding `now` starts at the last
 * multiple of `window` ms. Every instance computes the same bounds without sharing anything.
 */
export function windowStart(now: number, window: number): number {
  return Math.floor(now / window) * window;
}

/** When the window holding `now` ends and its budget is whole again. */
export function windowReset(now: number, window: number): number {
  return windowStart(now, window) + window;
}
