/**
 * Callers with the same scopes share one (read-only) set: a gateway with thousands of open
 * WebSockets holds thousands of callers, most with one of a few scope lists, and a set of eight
 * scopes with its strings is about half a kilobyte each. Keyed by the scopes in order; bounded,
 * emptied when full (a token's scopes are signed, so only an identity provider with very many
 * distinct lists fills it, and then sets are merely no longer shared until it refills).
 */
export class SharedScopeSets {
  private readonly sets = new Map<string, ReadonlySet<string>>();

  constructor(private readonly maxEntries = 1_000) {}

  get size(): number {
    return this.sets.size;
  }

  /** The shared set equal to `scopes` (in iteration order), or `scopes` itself, now shared. */
  of(scopes: ReadonlySet<string>): ReadonlySet<string> {
    // JSON, not a join: a role-mapped scope may hold the separator, and ['a b'] is not ['a', 'b'].
    const key = JSON.stringify([...scopes]);
    const shared = this.sets.get(key);
    if (shared) return shared;
    if (this.sets.size >= this.maxEntries) this.sets.clear();
    this.sets.set(key, scopes);
    return scopes;
  }
}
