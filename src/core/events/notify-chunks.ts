import { randomUUID } from 'node:crypto';

/** Raw bytes per part: base64 of 5400 bytes is 7200 characters, under NOTIFY's 8000-byte limit. */
const PART_BYTES = 5400;
/** Parts of one envelope arrive together (one transaction); stragglers are dropped after this. */
const PART_TTL_MS = 30_000;
const MAX_PENDING = 1000;

interface Pending {
  parts: (string | undefined)[];
  received: number;
  firstAt: number;
}

/**
 * Splits an envelope too big for one NOTIFY into parts `#<id>:<index>:<count>:<base64>` and puts
 * them together again on the receiving side. Envelopes that fit go as they are (they start with
 * `{`). Pending parts are bounded in number and in age, so a lost part costs nothing lasting.
 */
export class NotifyChunks {
  private readonly pending = new Map<string, Pending>();

  split(envelope: string): string[] {
    const bytes = Buffer.from(envelope, 'utf8');
    const count = Math.ceil(bytes.length / PART_BYTES);
    const id = randomUUID();
    const parts: string[] = [];
    for (let index = 0; index < count; index++) {
      const piece = bytes.subarray(index * PART_BYTES, (index + 1) * PART_BYTES);
      parts.push(`#${id}:${index}:${count}:${piece.toString('base64')}`);
    }
    return parts;
  }

  /** The whole envelope once its last part arrived, else undefined. */
  accept(payload: string, now = Date.now()): string | undefined {
    if (!payload.startsWith('#')) return payload;
    const match = /^#([0-9a-f-]{36}):(\d+):(\d+):/.exec(payload);
    if (!match) return undefined;
    const [header, id, indexText, countText] = match;
    const index = Number(indexText);
    const count = Number(countText);
    if (count < 1 || count > 100_000 || index >= count) return undefined;
    this.evict(now);
    let entry = this.pending.get(id);
    if (!entry) {
      if (this.pending.size >= MAX_PENDING) return undefined;
      entry = { parts: new Array<string | undefined>(count), received: 0, firstAt: now };
      this.pending.set(id, entry);
    }
    if (entry.parts.length !== count || entry.parts[index] !== undefined) return undefined;
    entry.parts[index] = payload.slice(header.length);
    if (++entry.received < count) return undefined;
    this.pending.delete(id);
    return Buffer.concat(entry.parts.map((part) => Buffer.from(part ?? '', 'base64'))).toString(
      'utf8',
    );
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  private evict(now: number): void {
    for (const [id, entry] of this.pending) {
      // Insertion order is arrival order: stop at the first young entry.
      if (now - entry.firstAt < PART_TTL_MS) break;
      this.pending.delete(id);
    }
  }
}
