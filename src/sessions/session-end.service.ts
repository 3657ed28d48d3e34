import { Injectable } from '@nestjs/common';
import { SessionEndedError } from './event-store.errors.js';
import { SessionCancellation } from './session-cancellation.js';
import type { KnownSession } from './session.directory.js';
import { SessionEventWriter } from './session-event.writer.js';
import { SessionTurnLeases, type HeldTurnLease } from './session-turn.leases.js';
import { SessionTurnRecovery } from './session-turn.recovery.js';
import { SessionWorkTracker } from './session-work.tracker.js';
import { SessionEndedException } from './session.exception.js';

/**
 * How long session.end waits for the running turn to record its cancelled outcome. Agents stop
 * promptly when aborted; one that does not gets its late events refused instead.
 */
const END_GRACE_MS = 5_000;

/**
 * Ending a session wherever its work runs: its running turn and tool calls are cancelled, on
 * whichever instance runs them, and their outcome stored first, so that `session.ended` is the
 * log's last event.
 */
@Injectable()
export class SessionEndService {
  /** Sessions whose session.end is stopping their work: no new work may start. */
  private readonly ending = new Map<string, Promise<void>>();

  constructor(
    private readonly writer: SessionEventWriter,
    private readonly leases: SessionTurnLeases,
    private readonly recovery: SessionTurnRecovery,
    private readonly work: SessionWorkTracker,
    private readonly cancellation: SessionCancellation,
  ) {}

  /** Whether a session.end is stopping the session's work here (no new work may start). */
  isEnding(sessionKey: string): boolean {
    return this.ending.has(sessionKey);
  }

  /** Ends an owned session (ending twice is harmless). */
  async end(session: KnownSession, reason: string | undefined): Promise<void> {
    const { sessionKey } = session;
    const ending = this.ending.get(sessionKey);
    if (ending) {
      await ending;
    } else if (session.status === 'active') {
      const done = this.stopAndEnd(session, reason);
      this.ending.set(sessionKey, done);
      try {
        await done;
      } finally {
        this.ending.delete(sessionKey);
      }
    } else {
      // Ended elsewhere: work still running anywhere can only have its late events refused.
      this.cancellation.cancelEverywhere(sessionKey, 'session ended');
    }
  }

  /**
   * Cancels the session's work everywhere, waits for its outcome to be stored (the lease comes
   * free once every turn has stored it), then stores the end under the lease.
   */
  private async stopAndEnd(session: KnownSession, reason: string | undefined): Promise<void> {
    const { sessionKey } = session;
    this.cancellation.cancelEverywhere(sessionKey, 'session ended');
    await this.work.stop(sessionKey, new Error('session ended'), END_GRACE_MS);
    let lease: HeldTurnLease | undefined;
    try {
      lease = await this.leases.hold(sessionKey, AbortSignal.timeout(END_GRACE_MS));
    } catch {
      // A turn elsewhere that does not stop in time: its late events are refused instead.
    }
    const data = reason === undefined ? {} : { reason };
    try {
      if (lease) await this.recovery.recoverInterrupted(sessionKey, lease);
      await this.writer.append(sessionKey, [{ type: 'session.ended', data }], {
        expectActive: true,
        fence: lease?.fence,
      });
    } catch (error) {
      // Someone else ended it first: the outcome is the same.
      if (!(error instanceof SessionEndedException || error instanceof SessionEndedError)) {
        throw error;
      }
    } finally {
      await lease?.release();
    }
    session.status = 'ended';
  }
}
