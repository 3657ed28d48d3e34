import { Inject, Injectable } from '@nestjs/common';
import { EVENT_BUS, type BusMessage, type EventBus } from '../core/events/event-bus.js';
import type { RpcConnection } from '../core/rpc/rpc-connection.js';
import { sessionTopic, type SessionEvent } from './session-api.types.js';
import { SESSION_EVENT_METHOD } from './session-events.publisher.js';
import { SessionStreamSequencer } from './session-stream.sequencer.js';

/** A history page as the service reads it: the events, and whether the log goes on. */
export interface ResumePage {
  events: SessionEvent[];
  more: boolean;
}

/** One connection's view of one session. */
interface Follow {
  /** Highest seq handed to the connection by a page or a flush of held events. */
  lastSeq: number;
  /** Live messages held while pages are read (the topic is unsubscribed meanwhile). */
  held?: BusMessage[];
  stopHolding?: () => void;
  /** History reads in flight; the last one to finish decides what follows. */
  reading: number;
  /** The connection received live events before the reads began. */
  wasLive: boolean;
  /** The connection is live (subscribed to the topic). */
  live: boolean;
  /** The latest page stopped before the end: live events wait for the page that reaches it. */
  parked: boolean;
}

/**
 * Which connections follow which sessions. Following is the connection's topic subscription;
 * this class adds the resume rule of `session.history`: after the page that reaches the end of
 * the log, the live stream continues exactly after that page's last event, so a client sees
 * every event once. A session.message or session.create on the same connection while pages are
 * read (or while the client pages on) does not subscribe: that would deliver the held events a
 * second time; the last page subscribes.
 */
@Injectable()
export class SessionSubscriptions {
  private readonly follows = new WeakMap<RpcConnection, Map<string, Follow>>();

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly sequencer: SessionStreamSequencer,
  ) {}

  follow(connection: RpcConnection, sessionKey: string): void {
    const follow = this.state(connection, sessionKey);
    if (follow.held || follow.parked || follow.live) return;
    follow.live = true;
    connection.subscribe(sessionTopic(sessionKey));
  }

  /**
   * Reads a history page for a connection and puts its live stream right after it.
   *
   * Live delivery to the connection is held and the bus is listened to *before* the page is
   * read, so an event committed during the read is either in the page or held (or both, and
   * then dropped by seq). When the page reaches the end of the log, the held messages newer
   * than anything the connection was given are sent and the connection is subscribed again in
   * one synchronous step, after the reply has gone out. When the page stops short (its count
   * or its byte budget), the connection stays parked: the client pages on, and the last page
   * resumes the stream; live events in between would otherwise show up both live and in a
   * later page. Overlapping reads share one hold; the last to finish decides.
   */
  async resume(
    connection: RpcConnection,
    sessionKey: string,
    read: () => Promise<ResumePage>,
  ): Promise<SessionEvent[]> {
    const topic = sessionTopic(sessionKey);
    const follow = this.state(connection, sessionKey);
    if (!follow.held) {
      const held: BusMessage[] = [];
      follow.held = held;
      follow.stopHolding = this.bus.subscribe(topic, (message) => held.push(message));
      follow.wasLive = follow.live;
      follow.live = false;
      connection.unsubscribe(topic);
    }
    follow.reading++;
    let page: ResumePage;
    try {
      page = await read();
    } catch (error) {
      follow.reading--;
      // A failed read changes nothing: a connection that was live goes on from where it was.
      if (follow.reading === 0) this.settle(connection, sessionKey, follow, follow.wasLive);
      throw error;
    }
    follow.reading--;
    const last = page.events.at(-1)?.seq;
    if (last !== undefined) follow.lastSeq = Math.max(follow.lastSeq, last);
    if (follow.reading === 0) {
      follow.parked = page.more;
      this.settle(connection, sessionKey, follow, !page.more);
    }
    return page.events;
  }

  /** Ends the hold: back to live (after the reply is written), or parked, or not following. */
  private settle(
    connection: RpcConnection,
    sessionKey: string,
    follow: Follow,
    goLive: boolean,
  ): void {
    if (!goLive) {
      this.release(follow);
      if (!follow.parked) this.forget(connection, sessionKey);
      return;
    }
    // setImmediate runs after the promise chain that writes the reply: the client gets the page
    // first, then what followed it. Messages published meanwhile are still held.
    setImmediate(() => {
      // A newer read began meanwhile: it holds on, and decides when it finishes.
      if (follow.reading > 0) return;
      const held = this.release(follow);
      follow.live = true;
      this.sequencer.startAt(sessionKey, follow.lastSeq);
      for (const message of held) {
        if (message.method === SESSION_EVENT_METHOD) {
          const seq = Number(message.params.seq);
          if (seq <= follow.lastSeq) continue;
          follow.lastSeq = seq;
        }
        connection.notify(message.method, message.params);
      }
      // The page may hold events whose publication is still to come (the log is readable once
      // committed, and the writer publishes after): the connection drops those, up to lastSeq.
      connection.subscribe(sessionTopic(sessionKey), follow.lastSeq);
    });
  }

  private release(follow: Follow): BusMessage[] {
    const held = follow.held ?? [];
    follow.stopHolding?.();
    follow.held = undefined;
    follow.stopHolding = undefined;
    return held;
  }

  private state(connection: RpcConnection, sessionKey: string): Follow {
    let sessions = this.follows.get(connection);
    if (!sessions) this.follows.set(connection, (sessions = new Map<string, Follow>()));
    let follow = sessions.get(sessionKey);
    if (!follow) {
      follow = { lastSeq: 0, reading: 0, wasLive: false, live: false, parked: false };
      sessions.set(sessionKey, follow);
    }
    return follow;
  }

  /** Drops what is kept for a session the connection does not follow (a refused read, say). */
  private forget(connection: RpcConnection, sessionKey: string): void {
    const sessions = this.follows.get(connection);
    const follow = sessions?.get(sessionKey);
    if (follow && !follow.live && !follow.parked && !follow.held && follow.reading === 0) {
      sessions?.delete(sessionKey);
    }
  }
}
