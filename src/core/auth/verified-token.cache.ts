import { createHash } from 'node:crypto';
import type { Caller } from '../identity/caller.js';
import { setNewest } from '../collections/bounded-map.js';

interface Entry<V> {
  value: V;
  /** Epoch ms after which the token must be verified again. */
  until: number;
}

/**
 * Remembers tokens that verified, so a client presenting the same token on every call pays for
 * the signature check once (gateways such as Envoy's jwt_authn do the same). Keyed by the whole
 * token (a SHA-256 of it when it is long, so an entry stays small), so only the exact token ever
 * hits. An entry never outlives the token's `exp`; callers shorten it further when the key
 * could be withdrawn (a JWKS rotation). Bounded: the oldest entry goes first when it is full.
 */
export class VerifiedTokenCache<V = Caller> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(token: string): V | undefined {
    const key = digest(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(token: string, value: V, until: number): void {
    if (until <= this.now() || this.maxEntries === 0) return;
    setNewest(this.entries, digest(token), { value, until }, this.maxEntries);
  }
}

/** Tokens up to this length are their own key; hashing them would cost more than it saves. */
const MAX_PLAIN_KEY = 2048;

function digest(token: string): string {
  return token.length <= MAX_PLAIN_KEY
    ? token
    : `#${createHash('sha256').update(token).digest('base64url')}`;
}
