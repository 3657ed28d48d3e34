import { CLIENT_THROTTLER } from './rate-limit.options.js';

interface PolicyState {
  limit: number;
  windowSeconds: number;
  remaining: number;
  resetSeconds: number;
}

const policies = new WeakMap<Map<string, string>, Map<string, PolicyState>>();

/**
 * Records one call's standing against a limit and rewrites the response's headers: the IETF
 * `RateLimit-Policy` / `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers) and the common
 * `X-RateLimit-*` ones. In a batch the lowest remaining count wins, whatever order calls finish in.
 */
export function writeRateLimitHeaders(
  headers: Map<string, string>,
  name: string,
  state: PolicyState,
): void {
  let byName = policies.get(headers);
  if (!byName) {
    byName = new Map();
    policies.set(headers, byName);
  }
  const previous = byName.get(name);
  if (previous && previous.remaining < state.remaining) return;
  byName.set(name, state);

  const all = [...byName];
  headers.set(
    'ratelimit-policy',
    all.map(([n, p]) => `"${n}";q=${p.limit};w=${p.windowSeconds}`).join(', '),
  );
  headers.set(
    'ratelimit',
    all.map(([n, p]) => `"${n}";r=${p.remaining};t=${p.resetSeconds}`).join(', '),
  );
  const suffix = name === CLIENT_THROTTLER ? '' : `-${name}`;
  headers.set(`x-ratelimit-limit${suffix}`, String(state.limit));
  headers.set(`x-ratelimit-remaining${suffix}`, String(state.remaining));
  headers.set(`x-ratelimit-reset${suffix}`, String(state.resetSeconds));
}
