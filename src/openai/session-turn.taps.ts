import { Inject, Injectable } from '@nestjs/common';
import { EVENT_BUS, type BusMessage, type EventBus } from '../core/events/event-bus.js';
import { sessionTopic } from '../sessions/session-api.types.js';
import {
  SESSION_DELTA_METHOD,
  SESSION_EVENT_METHOD,
} from '../sessions/session-events.publisher.js';

/** Follows one turn's streamed text; close it when the turn is over. */
export interface TurnTap {
  /** The turn's message id, once its `message.user` has been seen. */
  readonly messageId: string | undefined;
  close(): void;
}

export type DeltaListener = (messageId: string, delta: string) => void;

/**
 * Streams a turn's deltas to an HTTP client from the session's topic on the event bus, the way
 * WebSocket subscribers get them. Opened before the message is sent, a tap takes as its turn the
 * first `message.user` with the message's content that no other open tap took: turns of a
 * session run in order, and their deltas follow their `message.user` on the bus. (Two identical
 * messages sent at once to one session by different transports may swap streams; each call's
 * final answer is still its own.)
 */
@Injectable()
export class SessionTurnTaps {
  /** Message ids taken by open taps, per session. */
  private readonly taken = new Map<string, Set<string>>();

  constructor(@Inject(EVENT_BUS) private readonly bus: EventBus) {}

  open(sessionKey: string, content: string, onDelta: DeltaListener): TurnTap {
    let messageId: string | undefined;
    const listener = (message: BusMessage): void => {
      if (messageId === undefined) {
        messageId = this.claim(sessionKey, content, message);
        return;
      }
      if (message.method !== SESSION_DELTA_METHOD) return;
      const { messageId: id, delta } = message.params;
      if (id === messageId && typeof delta === 'string') onDelta(messageId, delta);
    };
    const unsubscribe = this.bus.subscribe(sessionTopic(sessionKey), listener);
    let closed = false;
    return {
      get messageId() {
        return messageId;
      },
      close: () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        if (messageId !== undefined) this.release(sessionKey, messageId);
      },
    };
  }

  private claim(sessionKey: string, content: string, message: BusMessage): string | undefined {
    if (message.method !== SESSION_EVENT_METHOD || message.params.type !== 'message.user') {
      return undefined;
    }
    const data = message.params.data as { messageId?: unknown; content?: unknown } | undefined;
    const id = data?.messageId;
    if (typeof id !== 'string' || data?.content !== content) return undefined;
    let taken = this.taken.get(sessionKey);
    if (taken?.has(id)) return undefined;
    if (!taken) this.taken.set(sessionKey, (taken = new Set()));
    taken.add(id);
    return id;
  }

  private release(sessionKey: string, messageId: string): void {
    const taken = this.taken.get(sessionKey);
    taken?.delete(messageId);
    if (taken?.size === 0) this.taken.delete(sessionKey);
  }
}
