import { createHash } from 'node:crypto';
import type { RpcCallContext } from '../rpc/rpc-call-context.js';
import { ipKey } from '../rpc/client-ip.js';
import { rateLimitPolicy, type RateLimitPolicy } from './rate-limit.headers.js';
import { SESSION_THROTTLER } from './rate-limit.options.js';

/** Longest params value kept as it is in a store key; longer ones are hashed. */
const MAX_KEY_PART = 64;

/**
 * The key part for a params value, which is counted before params are validated: an oversize
 * value is hashed, so a 1 MB "sessionKey" costs the store 43 bytes, not a megabyte a window.
 */
export function boundedKey(value: string): string {
  if (value.length <= MAX_KEY_PART) return value;
  return `#${createHash('sha256').update(value).digest('base64url')}`;
}

/** Who a call is counted against: the verified subject, else the client's address. */
function who(call: RpcCallContext): string {
  return call.caller ? `sub:${call.caller.subject}` : `ip:${ipKey(call.ip)}`;
}

/**
 * One limit as it applies to one method, prepared at boot: the store key's prefix, the limit and
 * window, the header text that never changes, and how to find the call's tracker.
 */
export class RpcThrottle {
  /** Its rate-limit header parts (`"client";q=60;w=60`, `x-ratelimit-limit`…), written per reply. */
  readonly headers: RateLimitPolicy;
  private readonly prefix: string;

  constructor(
    readonly name: string,
    readonly limit: number,
    readonly ttl: number,
    /** For the session limit: the params field holding the session key. */
    private readonly sessionParam?: string,
  ) {
    this.headers = rateLimitPolicy(name, limit, Math.ceil(ttl / 1000));
    this.prefix = `${name}:`;
  }

  /** The store key for a call, or undefined when this limit does not count it. */
  keyOf(call: RpcCallContext): string | undefined {
    const tracker = this.trackerOf(call);
    return tracker === undefined ? undefined : this.prefix + tracker;
  }

  /** Who (and, for the session limit, which session) a call is counted against. */
  trackerOf(call: RpcCallContext): string | undefined {
    if (this.name !== SESSION_THROTTLER) return who(call);
    const params = call.params;
    const value =
      typeof params === 'object' && params !== null && !Array.isArray(params)
        ? (params as Record<string, unknown>)[this.sessionParam!]
        : undefined;
    // A call without a usable session key fails params validation: nothing to count.
    if (typeof value !== 'string' || value === '') return undefined;
    // Counted per (caller, session): another subject's calls with this key (refused -32004 as
    // if the session did not exist) must not spend its owner's budget.
    return `${who(call)}:${boundedKey(value)}`;
  }
}
