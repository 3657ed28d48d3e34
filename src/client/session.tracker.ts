import type { SessionEvent } from '../sessions/session-api.types.js';
import type { SessionDeltaItem, SessionEventItem } from './client.types.js';
import { ConnectionError } from './connection.error.js';
import type { OutgoingCall } from './rpc.transport.js';

/** What a stream or a follow hears of a session. */
export interface SessionListener {
  onEvent(event: SessionEventItem): void;
  onDelta?(delta: SessionDeltaItem): void;
  /** The session could not be read (not found, forbidden, token refused): listening ends. */
  onError?(error: Error): void;
}

interface Tracked {
  sessionKey: string;
  /** Highest seq delivered; undefined until the first event (a stream on an unread session). */
  lastSeq?: number;
  listeners: Set<SessionListener>;
  /** Live events that arrived during a catch-up, or after a gap: delivered in seq order. */
  held: SessionEvent[];
  catchingUp?: Promise<void>;
  /** Another catch-up was asked for while one ran. */
  again: boolean;
  /** Highest delta index delivered per message still streaming. */
  deltas: Map<string, number>;
  /** Messages whose answer is stored: a late duplicate delta of theirs is dropped. */
  finished: string[];
}

const HISTORY_PAGE = 200;
const FINISHED_KEPT = 32;

type Call = (call: OutgoingCall) => Promise<unknown>;

/**
 * The sessions a WebSocket client listens to, each delivered in seq order, every event once.
 * Live events come from `session.event`; whatever was missed (a reconnect, a gap) is read with
 * `session.history` from the last seq delivered, which also subscribes the new connection. Live
 * events that arrive meanwhile are held and merged by seq when the log has been read to its end.
 */
export class SessionTracker {
  private readonly sessions = new Map<string, Tracked>();

  constructor(private readonly call: Call) {}

  /**
   * Starts listening. With `afterSeq`, the log is read from there (unless the session is
   * already read further); `caughtUp` settles when the log has been read to its end.
   */
  track(
    sessionKey: string,
    listener: SessionListener,
    afterSeq?: number,
  ): { untrack: () => void; caughtUp: Promise<void> } {
    let tracked = this.sessions.get(sessionKey);
    if (!tracked) {
      tracked = {
        sessionKey,
        listeners: new Set(),
        held: [],
        again: false,
        deltas: new Map(),
        finished: [],
      };
      this.sessions.set(sessionKey, tracked);
    }
    tracked.listeners.add(listener);
    const session = tracked;
    let caughtUp: Promise<void> = Promise.resolve();
    if (afterSeq !== undefined) {
      if (session.lastSeq === undefined) session.lastSeq = afterSeq;
      caughtUp = this.catchUp(session);
    }
    return {
      caughtUp,
      untrack: () => {
        session.listeners.delete(listener);
        if (session.listeners.size === 0 && this.sessions.get(sessionKey) === session) {
          this.sessions.delete(sessionKey);
        }
      },
    };
  }

  lastSeq(sessionKey: string): number | undefined {
    return this.sessions.get(sessionKey)?.lastSeq;
  }

  /**
   * Reads the log from `afterSeq` for a session whose place was not known (a stream whose first
   * events were missed): what follows is delivered as usual.
   */
  resumeFrom(sessionKey: string, afterSeq: number): Promise<void> {
    const tracked = this.sessions.get(sessionKey);
    if (!tracked) return Promise.resolve();
    if (tracked.lastSeq === undefined) tracked.lastSeq = afterSeq;
    return this.catchUp(tracked);
  }

  /** A connection opened: every session is read from its last seq, which subscribes it there. */
  resumeAll(): void {
    for (const tracked of this.sessions.values()) {
      if (tracked.lastSeq !== undefined) void this.catchUp(tracked);
    }
  }

  notification(method: string, params: Record<string, unknown>): void {
    if (method === 'session.event') this.live(params);
    else if (method === 'session.delta') this.delta(params);
  }

  private live(params: Record<string, unknown>): void {
    const { sessionKey, ...rest } = params;
    const tracked = this.sessions.get(String(sessionKey));
    if (!tracked || typeof rest.seq !== 'number') return;
    const event = rest as unknown as SessionEvent;
    if (tracked.catchingUp) {
      tracked.held.push(event);
      return;
    }
    const last = tracked.lastSeq;
    if (last !== undefined && event.seq <= last) return;
    if (last === undefined || event.seq === last + 1) {
      this.deliver(tracked, event);
      return;
    }
    // A gap: the log has what is missing.
    tracked.held.push(event);
    void this.catchUp(tracked);
  }

  private delta(params: Record<string, unknown>): void {
    const tracked = this.sessions.get(String(params.sessionKey));
    const messageId = String(params.messageId);
    const index = Number(params.index);
    if (!tracked || tracked.finished.includes(messageId)) return;
    if (index <= (tracked.deltas.get(messageId) ?? -1)) return;
    tracked.deltas.set(messageId, index);
    const item: SessionDeltaItem = {
      kind: 'delta',
      sessionKey: tracked.sessionKey,
      messageId,
      index,
      delta: String(params.delta),
    };
    for (const listener of [...tracked.listeners]) listener.onDelta?.(item);
  }

  /** Pages the log from lastSeq until a page comes back empty, then merges what was held. */
  private catchUp(tracked: Tracked): Promise<void> {
    if (tracked.catchingUp) {
      tracked.again = true;
      return tracked.catchingUp;
    }
    const run = async (): Promise<void> => {
      do {
        tracked.again = false;
        for (;;) {
          const page = (await this.call({
            method: 'session.history',
            params: {
              sessionKey: tracked.sessionKey,
              afterSeq: tracked.lastSeq ?? 0,
              limit: HISTORY_PAGE,
            },
            retry: false,
          })) as SessionEvent[];
          for (const event of page) {
            if (event.seq > (tracked.lastSeq ?? 0)) this.deliver(tracked, event);
          }
          if (page.length === 0) break;
        }
      } while (tracked.again);
    };
    const catchingUp = run().then(
      () => {
        tracked.catchingUp = undefined;
        this.mergeHeld(tracked);
      },
      (error: unknown) => {
        tracked.catchingUp = undefined;
        // A lost connection is resumed when the next one opens; anything else ends listening.
        if (error instanceof ConnectionError) return;
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const listener of [...tracked.listeners]) listener.onError?.(failure);
      },
    );
    tracked.catchingUp = catchingUp;
    return catchingUp;
  }

  private mergeHeld(tracked: Tracked): void {
    const held = tracked.held.sort((a, b) => a.seq - b.seq);
    tracked.held = [];
    for (const [i, event] of held.entries()) {
      const last = tracked.lastSeq ?? event.seq - 1;
      if (event.seq <= last) continue;
      if (event.seq !== last + 1) {
        tracked.held = held.slice(i);
        void this.catchUp(tracked);
        return;
      }
      this.deliver(tracked, event);
    }
  }

  private deliver(tracked: Tracked, event: SessionEvent): void {
    tracked.lastSeq = event.seq;
    const messageId = event.data?.messageId;
    if (
      (event.type === 'message.agent' || event.type === 'agent.error') &&
      typeof messageId === 'string'
    ) {
      tracked.deltas.delete(messageId);
      tracked.finished.push(messageId);
      if (tracked.finished.length > FINISHED_KEPT) tracked.finished.shift();
    }
    const item: SessionEventItem = { kind: 'event', sessionKey: tracked.sessionKey, ...event };
    for (const listener of [...tracked.listeners]) listener.onEvent(item);
  }
}
