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
}

interface PolicyState {
  policy: RateLimitPolicy;
  remaining: number;
  resetSeconds: number;
}

const policies = new WeakMap<Map<string, string>, Map<string, PolicyState>>();

/**
 * Records one call's standing against a limit and rewrites the response's headers: the IETF
 * `RateLimit-Policy` / `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers) and the common
 * `X-RateLimit-*` ones. In a batch the lowest remaining count wins, whatever order calls finish in.
 */
export function writePolicyHeaders(
  headers: Map<string, string>,
  policy: RateLimitPolicy,
  remaining: number,
  resetSeconds: number,
): void {
  const name = policy.name;
  const state: PolicyState = { policy, remaining, resetSeconds };
  let byName = policies.get(headers);
  if (!byName) {
    byName = new Map();
    policies.set(headers, byName);
  }
  const previous = byName.get(name);
  if (previous && previous.remaining < state.remaining) return;
  byName.set(name, state);

  let policyText = '';
  let standing = '';
  for (const [n, p] of byName) {
    const separator = policyText ? ', ' : '';
    policyText += separator + p.policy.policy;
    standing += `${separator}"${n}";r=${p.remaining};t=${p.resetSeconds}`;
  }
  headers.set('ratelimit-policy', policyText);
  headers.set('ratelimit', standing);
  const suffix = policy.suffix;
  headers.set(`x-ratelimit-limit${suffix}`, policy.limitText);
  headers.set(`x-ratelimit-remaining${suffix}`, String(remaining));
  headers.set(`x-ratelimit-reset${suffix}`, String(resetSeconds));
}

/** A limit's fixed header parts. */
export function rateLimitPolicy(
  name: string,
  limit: number,
  windowSeconds: number,
): RateLimitPolicy {
  return {
    name,
    limit,
    windowSeconds,
    policy: `"${name}";q=${limit};w=${windowSeconds}`,
    limitText: String(limit),
    suffix: name === CLIENT_THROTTLER ? '' : `-${name}`,
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
