import { Injectable } from '@nestjs/common';

/** One piece of running work in a session: a turn, or a client's recorded tool call. */
export interface SessionWork {
  /** Aborted when the session ends (or the gateway stops): stop, and record the outcome. */
  readonly signal: AbortSignal;
  /** Stops the work (its client went away, its lease was lost). */
  abort(reason: unknown): void;
  /**
   * A turn holds its session now (`leaseToken`: its lease's fencing token, on PostgreSQL):
   * session.cancel stops it from here on. A turn still waiting for its turn is not stopped.
   */
  running(leaseToken?: number): void;
  /** The outcome is recorded: session.end may now store `session.ended`. */
  done(): void;
}

interface Entry {
  controller: AbortController;
  finished: Promise<void>;
  /** Set when a turn starts running under its session's lease. */
  turn?: { leaseToken?: number };
}

/**
 * The work running in each session on this instance. session.end stops it all and waits for its
 * outcome to be stored before it stores `session.ended`, so nothing follows that event;
 * session.cancel stops only the running turn, which records its cancelled answer.
 */
@Injectable()
export class SessionWorkTracker {
  private readonly bySession = new Map<string, Set<Entry>>();

  start(sessionKey: string): SessionWork {
    const controller = new AbortController();
    let release!: () => void;
    const entry: Entry = { controller, finished: new Promise((resolve) => (release = resolve)) };
    let set = this.bySession.get(sessionKey);
    if (!set) this.bySession.set(sessionKey, (set = new Set()));
    set.add(entry);
    return {
      signal: controller.signal,
      abort: (reason) => controller.abort(reason),
      running: (leaseToken) => {
        entry.turn = leaseToken === undefined ? {} : { leaseToken };
      },
      done: () => {
        set.delete(entry);
        if (set.size === 0 && this.bySession.get(sessionKey) === set) {
          this.bySession.delete(sessionKey);
        }
        release();
      },
    };
  }

  /**
   * Aborts the session's work and waits until each has recorded its outcome, or `graceMs` has
   * passed (an agent that ignores its signal must not hold session.end forever).
   */
  async stop(sessionKey: string, reason: Error, graceMs: number): Promise<void> {
    await this.abortAndWait([...(this.bySession.get(sessionKey) ?? [])], reason, graceMs);
  }

  /**
   * Aborts the session's running turn (only the one under lease `leaseToken` when given: a
   * cancellation meant for one turn must not reach the next) and waits, up to `graceMs`, for it
   * to record its outcome. False when no turn was running here.
   */
  async cancelTurn(
    sessionKey: string,
    reason: Error,
    graceMs: number,
    leaseToken?: number,
  ): Promise<boolean> {
    const turns = [...(this.bySession.get(sessionKey) ?? [])].filter(
      (entry) =>
        entry.turn !== undefined &&
        !entry.controller.signal.aborted &&
        (leaseToken === undefined || entry.turn.leaseToken === leaseToken),
    );
    await this.abortAndWait(turns, reason, graceMs);
    return turns.length > 0;
  }

  /** Aborts everything (shutdown). */
  abortAll(reason: Error): void {
    for (const set of this.bySession.values()) {
      for (const entry of set) entry.controller.abort(reason);
    }
  }

  private async abortAndWait(entries: Entry[], reason: Error, graceMs: number): Promise<void> {
    if (entries.length === 0) return;
    for (const entry of entries) entry.controller.abort(reason);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    try {
      await Promise.race([Promise.all(entries.map((entry) => entry.finished)), grace]);
    } finally {
      clearTimeout(timer);
    }
  }
}
