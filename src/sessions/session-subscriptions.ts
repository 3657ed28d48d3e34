import { Inject, Injectable } from '@nestjs/common';
import { EVENT_BUS, type BusMessage, type EventBus } from '../core/events/event-bus.js';
import type { RpcConnection } from '../core/rpc/rpc-connection.js';
import { sessionTopic, type SessionEvent } from './session-api.types.js';
import { SESSION_EVENT_METHOD } from './session-events.publisher.js';

/**
 * Which connections follow which sessions. Following is the connection's topic subscription;
 * this class adds the resume rule of `session.history`: after a page, the live stream
 * continues exactly after the page's last event, so a client sees every event once.
 */
@Injectable()
export class SessionSubscriptions {
  constructor(@Inject(EVENT_BUS) private readonly bus: EventBus) {}

  follow(connection: RpcConnection, sessionKey: string): void {
    connection.subscribe(sessionTopic(sessionKey));
  }

  /**
   * Reads a history page for a connection and puts its live stream right after it.
   *
   * Live delivery to the connection is parked and the bus is listened to *before* the page is
   * read, so an event committed during the read is either in the page or captured (or both,
   * and then dropped from the capture by seq). When the page is the last one (shorter than
   * `limit`) the captured messages newer than the page are sent and the connection is
   * subscribed again in one synchronous step, after the reply has gone out. When the page is
   * full, the connection stays parked: the client pages on, and the last page resumes the
   * stream; live events in between would otherwise show up both live and in a later page.
   */
  async resume(
    connection: RpcConnection,
    sessionKey: string,
    afterSeq: number,
    limit: number,
    read: () => Promise<SessionEvent[]>,
  ): Promise<SessionEvent[]> {
    const topic = sessionTopic(sessionKey);
    const captured: BusMessage[] = [];
    const stopCapture = this.bus.subscribe(topic, (message) => captured.push(message));
    connection.unsubscribe(topic);
    let page: SessionEvent[];
    try {
      page = await read();
    } catch (error) {
      stopCapture();
      throw error;
    }
    if (page.length >= limit) {
      stopCapture();
      return page;
    }
    const last = page.at(-1)?.seq ?? afterSeq;
    // setImmediate runs after the promise chain that writes the reply: the client gets the page
    // first, then what followed it. Messages published meanwhile are still captured.
    setImmediate(() => {
      stopCapture();
      connection.subscribe(topic);
      for (const message of captured) {
        if (message.method === SESSION_EVENT_METHOD && Number(message.params.seq) <= last) continue;
        connection.notify(message.method, message.params);
      }
    });
    return page;
  }
}
