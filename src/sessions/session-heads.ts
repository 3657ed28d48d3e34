import type { StoredEvent } from './session.types.js';
import { setNewest } from '../core/collections/bounded-map.js';

/**
 * The newest seq of each session this process wrote, kept where this process is the log's only
 * writer (SQLite: one instance). A turn checks that its cached conversation is current against it
 * instead of reading the session's row: that read was about 5% of an echo turn's main thread.
 * Bounded (16k sessions, about 1.5 MB): a session it dropped or never wrote is read from its row.
 */
export class SessionHeads {
  private readonly seqs = new Map<string, number>();

  constructor(private readonly max = 16_384) {}

  get(sessionKey: string): number | undefined {
    return this.seqs.get(sessionKey);
  }

  /** Follows a write: its events' last seq once committed; a failed write forgets the session. */
  follow<T extends StoredEvent[] | { event: StoredEvent }>(
    sessionKey: string,
    write: Promise<T>,
  ): Promise<T> {
    return write.then(
      (written) => {
        this.committed(sessionKey, Array.isArray(written) ? written : [written.event]);
        return written;
      },
      (error: unknown) => {
        // Refused (nothing stored) or unknown (a writer that died mid-commit): read the row next.
        this.seqs.delete(sessionKey);
        throw error;
      },
    );
  }

  private committed(sessionKey: string, events: readonly StoredEvent[]): void {
    if (events.length === 0) return;
    const seq = events[events.length - 1].seq;
    const known = this.seqs.get(sessionKey);
    if (known !== undefined && seq <= known) return;
    // Moved to the end, so that the session written to longest ago is the one dropped.
    setNewest(this.seqs, sessionKey, seq, this.max);
  }
}
