/** Who failed to authenticate: the TCP peer and the headers that may name a proxied client. */
export interface AuthFailurePeer {
  remoteAddress: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

export type AuthFailureVerdict = { refuse: false } | { refuse: true; retryAfterMs: number };

/**
 * A budget of failed authentications per client address (the rate-limit module provides one).
 * Only failures are counted and only failures are refused: a good token from the same address
 * is never looked up here, so a bad-token flood cannot lock its neighbours out.
 */
export interface AuthFailureLimiter {
  /** Counts one failure; `refuse` means answer 429 (with Retry-After) instead of 401. */
  recordFailure(peer: AuthFailurePeer): Promise<AuthFailureVerdict>;
}

export const AUTH_FAILURE_LIMITER = Symbol('openclaw:auth-failure-limiter');
