import type { EventLogWriter, Outcome, WriteRequest, WriteResult } from './event-write.types.js';

/** At most this many calls share one commit. */
const MAX_CALLS_PER_BATCH = 256;

interface WriteJob {
  request: WriteRequest;
  resolve: (value: WriteResult) => void;
  reject: (error: unknown) => void;
}

/** One queue of writes and the loop committing it. */
interface WriteLane {
  pending: WriteJob[];
  draining?: Promise<void>;
}

/** How well group commit groups: calls per committed batch. */
export interface WriteBatchStats {
  batches: number;
  calls: number;
  largest: number;
}

/**
 * Group commit. Calls wait in a lane (a session always uses the same one, so its writes stay in
 * order); a lane commits what has gathered on the next turn of the event loop, and whatever
 * arrives while that commit is in flight goes in the next one. Each call settles with its own
 * outcome once its batch has committed.
 */
export class EventWriteBatcher {
  private readonly lanes: WriteLane[];
  readonly stats: WriteBatchStats = { batches: 0, calls: 0, largest: 0 };

  constructor(private readonly writer: EventLogWriter) {
    this.lanes = Array.from({ length: writer.lanes }, () => ({ pending: [] }));
  }

  submit<T extends WriteResult>(request: WriteRequest): Promise<T> {
    const lane = this.lanes[laneOf(request.sessionKey, this.lanes.length)];
    return new Promise<T>((resolve, reject) => {
      lane.pending.push({ request, resolve: resolve as (value: WriteResult) => void, reject });
      lane.draining ??= this.drain(lane);
    });
  }

  /** Resolves once every write submitted so far has settled. */
  async flushed(): Promise<void> {
    for (const lane of this.lanes) while (lane.draining) await lane.draining;
  }

  private async drain(lane: WriteLane): Promise<void> {
    // Let this turn of the event loop finish first, so that calls arriving in it (other sockets'
    // requests read in the same poll) share the first commit.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;) {
      if (lane.pending.length === 0) {
        // Checked and cleared in one synchronous step, so a call submitted later starts a drain.
        lane.draining = undefined;
        return;
      }
      const jobs = lane.pending.splice(0, MAX_CALLS_PER_BATCH);
      this.stats.batches++;
      this.stats.calls += jobs.length;
      if (jobs.length > this.stats.largest) this.stats.largest = jobs.length;
      let outcomes: Outcome[];
      try {
        outcomes = await this.writer.commit(jobs.map((job) => job.request));
      } catch (error) {
        // The commit itself failed (connection, lock): nothing of the batch is stored.
        outcomes = jobs.map(() => ({ ok: false, error }));
      }
      jobs.forEach((job, i) => {
        const outcome = outcomes[i];
        if (outcome.ok) job.resolve(outcome.value);
        else job.reject(outcome.error);
      });
    }
  }
}

/** The lane of a session: a stable hash of its key (FNV-1a). */
function laneOf(sessionKey: string, lanes: number): number {
  if (lanes === 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < sessionKey.length; i++) {
    hash ^= sessionKey.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % lanes;
}
