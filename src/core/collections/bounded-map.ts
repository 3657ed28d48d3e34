/**
 * Sets `key` in a map used as a bounded cache, newest last: an existing entry moves to the end,
 * and while the map is full the oldest entries (Maps iterate in insertion order) are dropped
 * first. What "oldest" means is the caller's policy: the least recently written, or, when every
 * entry lives about as long as the others, the first to expire.
 */
export function setNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  // Only a full map pays for an iterator (SessionHeads calls this on every SQLite append).
  // Deleting while iterating a Map is safe: iteration goes on with the next key.
  if (map.size >= max) {
    for (const oldest of map.keys()) {
      if (map.size < max) break;
      map.delete(oldest);
    }
  }
  if (max > 0) map.set(key, value);
}
