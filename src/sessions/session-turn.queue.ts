import { Injectable } from '@nestjs/common';
import { SessionBusyException } from './session.exception.js';

interface Lane {
  /** Settles when the last turn queued so far has finished. */
  tail: Promise<void>;
  /** The running turn plus those waiting. */
  size: number;
}

/**
 * One turn at a time per session on this instance, in arrival order, with a bounded number
 * waiting (across instances, the session's lease keeps the same rule).
 */
@Injectable()
export class SessionTurnQueue {
  private readonly lanes = new Map<string, Lane>();

  /**
   * Runs `turn` after the session's earlier turns. Throws SessionBusyException at once, having
   * run nothing, when `capacity` turns already wait behind the running one.
   */
  run<T>(sessionKey: string, capacity: number, turn: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(sessionKey);
    if (!lane) this.lanes.set(sessionKey, (lane = { tail: Promise.resolve(), size: 0 }));
    if (lane.size > capacity) throw new SessionBusyException(sessionKey, capacity);
    lane.size++;
    const current = lane;
    const result = current.tail.then(turn);
    current.tail = result.then(
      () => this.release(sessionKey, current),
      () => this.release(sessionKey, current),
    );
    return result;
  }

  /** Turns running or waiting in the session. */
  pending(sessionKey: string): number {
    return this.lanes.get(sessionKey)?.size ?? 0;
  }

  private release(sessionKey: string, lane: Lane): void {
    lane.size--;
    if (lane.size === 0 && this.lanes.get(sessionKey) === lane) this.lanes.delete(sessionKey);
  }
}
