/**
 * Open connections per key (a subject, an IP) in this process. Open sockets are this
 * instance's resource, and a shared counter would leak the places of a crashed instance.
 */
export class OpenConnectionCounter {
  private readonly counts = new Map<string, number>();

  constructor(readonly max: number) {}

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  isFull(key: string): boolean {
    return this.count(key) >= this.max;
  }

  add(key: string): void {
    this.counts.set(key, this.count(key) + 1);
  }

  /** Entries at zero are dropped, so memory follows the open connections, not the past ones. */
  remove(key: string): void {
    const left = this.count(key) - 1;
    if (left > 0) this.counts.set(key, left);
    else this.counts.delete(key);
  }

  get size(): number {
    return this.counts.size;
  }
}
