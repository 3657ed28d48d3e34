import { Injectable } from '@nestjs/common';

/** One piece of running work in a session: a turn, or a client's recorded tool call. */
export interface SessionWork {
  /** Aborted when the session ends (or the gateway stops): stop, and record the outcome. */
  readonly signal: AbortSignal;
  /** Stops the work (its client went away, its lease was lost). */
  abort(reason: unknown): void;
  /** The outcome is recorded: session.end may now store `session.ended`. */
  done(): void;
}

interface Entry {
  controller: AbortController;
  finished: Promise<void>;
}

/**
 * The work running in each session on this instance. session.end stops it and waits for its
 * outcome to be stored before it stores `session.ended`, so nothing follows that event.
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
    const entries = [...(this.bySession.get(sessionKey) ?? [])];
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

  /** Aborts everything (shutdown). */
  abortAll(reason: Error): void {
    for (const set of this.bySession.values()) {
      for (const entry of set) entry.controller.abort(reason);
    }
  }
}
