import type { GatewayTracer, Span } from '../core/tracing/gateway-tracer.js';
import type { EventLogWriter, Outcome, WriteRequest, WriteResult } from './event-write.types.js';

/** At most this many calls share one commit. */
const MAX_CALLS_PER_BATCH = 256;

interface WriteJob {
  request: WriteRequest;
  resolve: (value: WriteResult) => void;
  reject: (error: unknown) => void;
  /** The write's span, when tracing is on. */
  span?: Span;
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

  constructor(
    private readonly writer: EventLogWriter,
    private readonly tracer?: GatewayTracer,
  ) {
    this.lanes = Array.from({ length: writer.lanes }, () => ({ pending: [] }));
  }

  submit<T extends WriteResult>(request: WriteRequest): Promise<T> {
    return this.tracer ? this.traced<T>(this.tracer, request) : this.enqueue<T>(request);
  }

  /**
   * A write in a span of the caller's trace, from submit to commit (the wait for the batch is
   * part of what the caller waited for); the batch's size is on it. Events' data is not.
   */
  private async traced<T extends WriteResult>(
    tracer: GatewayTracer,
    request: WriteRequest,
  ): Promise<T> {
    const span = tracer.startSpan('event_store.commit', 'internal', {
      'db.operation.name': request.kind,
      'openclaw.events.count': request.kind === 'append' ? request.events.length : 1,
    });
    try {
      return await this.enqueue<T>(request, span);
    } catch (error) {
      tracer.fail(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  private enqueue<T extends WriteResult>(request: WriteRequest, span?: Span): Promise<T> {
    const lane = this.lanes[laneOf(request.sessionKey, this.lanes.length)];
    return new Promise<T>((resolve, reject) => {
      const resolveJob = resolve as (value: WriteResult) => void;
      lane.pending.push(
        span
          ? { request, resolve: resolveJob, reject, span }
          : { request, resolve: resolveJob, reject },
      );
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
      for (const job of jobs) job.span?.setAttribute('openclaw.commit.batch_size', jobs.length);
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
