import { CLIENT_THROTTLER } from './rate-limit.options.js';

/** The parts of a limit's headers that never change, prepared once (RpcThrottle has them). */
export interface RateLimitPolicy {
  name: string;
  limit: number;
  windowSeconds: number;
  /** `"client";q=60;w=60` */
  policy: string;
  limitText: string;
  /** '' for the client limit, `-<name>` for the others. */
  suffix: string;
  /** `"client";r=`, this limit's part of `RateLimit` up to its remaining count. */
  standingPrefix: string;
  /** `x-ratelimit-limit<suffix>`, and the same for remaining and reset. */
  limitHeader: string;
  remainingHeader: string;
  resetHeader: string;
}

interface PolicyState {
  policy: RateLimitPolicy;
  remaining: number;
  resetSeconds: number;
}

/**
 * The standings already written into a reply's headers, kept on the headers map itself: a
 * WeakMap entry per reply cost the garbage collector an ephemeron per request.
 */
const STANDINGS = Symbol('rateLimitStandings');
type HeadersWithStandings = Map<string, string> & { [STANDINGS]?: PolicyState[] };

/**
 * Records one call's standing against a limit and rewrites the response's headers: the IETF
 * `RateLimit-Policy` / `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers) and the common
 * `X-RateLimit-*` ones. In a batch the lowest remaining count wins, whatever order calls finish in.
 * A reply's first limit (most replies count one or two) is written from prepared strings.
 */
export function writePolicyHeaders(
  headers: Map<string, string>,
  policy: RateLimitPolicy,
  remaining: number,
  resetSeconds: number,
): void {
  const target = headers as HeadersWithStandings;
  const states = target[STANDINGS];
  if (states === undefined) {
    target[STANDINGS] = [{ policy, remaining, resetSeconds }];
    headers.set('ratelimit-policy', policy.policy);
    headers.set('ratelimit', `${policy.standingPrefix}${remaining};t=${resetSeconds}`);
  } else {
    const previous = states.find((state) => state.policy.name === policy.name);
    if (previous) {
      if (previous.remaining < remaining) return;
      previous.policy = policy;
      previous.remaining = remaining;
      previous.resetSeconds = resetSeconds;
    } else {
      states.push({ policy, remaining, resetSeconds });
    }
    let policyText = '';
    let standing = '';
    for (const state of states) {
      const separator = policyText ? ', ' : '';
      policyText += separator + state.policy.policy;
      standing += `${separator}${state.policy.standingPrefix}${state.remaining};t=${state.resetSeconds}`;
    }
    headers.set('ratelimit-policy', policyText);
    headers.set('ratelimit', standing);
  }
  headers.set(policy.limitHeader, policy.limitText);
  headers.set(policy.remainingHeader, String(remaining));
  headers.set(policy.resetHeader, String(resetSeconds));
}

/** A limit's fixed header parts. */
export function rateLimitPolicy(
  name: string,
  limit: number,
  windowSeconds: number,
): RateLimitPolicy {
  const suffix = name === CLIENT_THROTTLER ? '' : `-${name}`;
  return {
    name,
    limit,
    windowSeconds,
    policy: `"${name}";q=${limit};w=${windowSeconds}`,
    limitText: String(limit),
    suffix,
    standingPrefix: `"${name}";r=`,
    limitHeader: `x-ratelimit-limit${suffix}`,
    remainingHeader: `x-ratelimit-remaining${suffix}`,
    resetHeader: `x-ratelimit-reset${suffix}`,
  };
}

/** writePolicyHeaders for a limit whose header parts were not prepared (plain HTTP routes). */
export function writeRateLimitHeaders(
  headers: Map<string, string>,
  name: string,
  state: { limit: number; windowSeconds: number; remaining: number; resetSeconds: number },
): void {
  writePolicyHeaders(
    headers,
    rateLimitPolicy(name, state.limit, state.windowSeconds),
    state.remaining,
    state.resetSeconds,
  );
}
