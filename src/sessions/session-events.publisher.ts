import { Inject, Injectable } from '@nestjs/common';
import { EVENT_BUS, type BusMessage, type EventBus } from '../core/events/event-bus.js';
import { sessionTopic } from './session-api.types.js';
import type { StoredEvent } from './session.types.js';

export const SESSION_EVENT_METHOD = 'session.event';
export const SESSION_DELTA_METHOD = 'session.delta';

/** Publishes stored events and streamed deltas on the bus, under the session's topic. */
@Injectable()
export class SessionEventsPublisher {
  constructor(@Inject(EVENT_BUS) private readonly bus: EventBus) {}

  /** Call only with committed events, in seq order. */
  stored(events: readonly StoredEvent[]): void {
    for (const event of events) {
      this.bus.publish(sessionTopic(event.sessionKey), sessionEventMessage(event));
    }
  }

  delta(sessionKey: string, messageId: string, index: number, delta: string): void {
    this.bus.publish(sessionTopic(sessionKey), {
      method: SESSION_DELTA_METHOD,
      params: { sessionKey, messageId, index, delta },
    });
  }
}

/** The notification of a stored event, as WebSocket subscribers receive it. */
export function sessionEventMessage(event: StoredEvent): BusMessage {
  return {
    method: SESSION_EVENT_METHOD,
    params: {
      sessionKey: event.sessionKey,
      seq: event.seq,
      type: event.type,
      at: event.at,
      data: event.data,
    },
  };
}
