import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { GatewayConfig } from '../core/config/gateway-config.js';
import {
  EVENT_BUS,
  type BusMessage,
  type EventBus,
  type MessageDelivery,
} from '../core/events/event-bus.js';
import { EventPageReader } from './event-page.reader.js';
import { sessionTopic } from './session-api.types.js';
import { SESSION_EVENT_METHOD, sessionEventMessage } from './session-events.publisher.js';
import { setNewest } from '../core/collections/bounded-map.js';

/** Sessions whose position is remembered; the least recently active are forgotten first. */
const MAX_STREAMS = 50_000;
/** After a reconnect, streams active this recently are checked against the log. */
const RESYNC_WINDOW_MS = 10 * 60_000;
const PAGE = 500;

interface Stream {
  /** The last seq delivered here; undefined until the first event or a reader's position. */
  lastSeq?: number;
  touchedAt: number;
  /** Set while missing events are read from the log; messages wait behind them. */
  backlog?: BusMessage[];
}

/**
 * Keeps each session's stream on this instance exactly the log: every stored event once, in seq
 * order, with its deltas in between. Several instances publish a session's events (one turn each
 * under its lease), pub/sub may drop a message or deliver two publishers' out of order, and a
 * reconnect loses whatever was sent meanwhile; so an event that skips ahead makes this read the
 * missing ones from the log first, an event already delivered is dropped, and after a reconnect
 * recently active streams catch up with the log.
 */
@Injectable()
export class SessionStreamSequencer implements OnModuleInit {
  private readonly logger = new Logger('SessionStream');
  private readonly streams = new Map<string, Stream>();

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly pages: EventPageReader,
    private readonly config: GatewayConfig,
  ) {}

  onModuleInit(): void {
    const deliver = this.bus.intercept?.(sessionTopic(''), (topic, message, deliverHere) =>
      this.receive(topic, message, deliverHere),
    );
    if (deliver) this.bus.onResync?.(() => void this.resync(deliver));
  }

  /**
   * A reader's position (a connection that paged the log up to `seq` and now goes live): the
   * stream's starting point when this instance has seen nothing of the session yet, so that an
   * event lost right after is noticed.
   */
  startAt(sessionKey: string, seq: number): void {
    const stream = this.stream(sessionKey);
    stream.lastSeq ??= seq;
  }

  private receive(topic: string, message: BusMessage, deliver: MessageDelivery): void {
    const sessionKey = topic.slice(sessionTopic('').length);
    const stream = this.stream(sessionKey);
    if (stream.backlog) {
      stream.backlog.push(message);
      return;
    }
    if (message.method !== SESSION_EVENT_METHOD) {
      deliver(topic, message);
      return;
    }
    const seq = Number(message.params.seq);
    if (stream.lastSeq !== undefined && seq <= stream.lastSeq) return;
    if (stream.lastSeq === undefined || seq === stream.lastSeq + 1) {
      stream.lastSeq = seq;
      deliver(topic, message);
      return;
    }
    stream.backlog = [message];
    void this.heal(sessionKey, stream, deliver, seq - 1);
  }

  /** Delivers the log's events after lastSeq (up to `until`, or its end), then the backlog. */
  private async heal(
    sessionKey: string,
    stream: Stream,
    deliver: MessageDelivery,
    until = Number.MAX_SAFE_INTEGER,
  ): Promise<void> {
    const topic = sessionTopic(sessionKey);
    try {
      for (;;) {
        const after = stream.lastSeq ?? 0;
        if (after >= until) break;
        const page = await this.pages.read(
          sessionKey,
          after,
          Math.min(PAGE, until - after),
          this.config.sessions.maxPageBytes,
        );
        for (const event of page.events) {
          stream.lastSeq = event.seq;
          deliver(topic, sessionEventMessage(event));
        }
        if (!page.more) break;
      }
    } catch (err) {
      // The log is unreachable too: deliver what came; the next gap or resync tries again.
      this.logger.warn({ err: { message: (err as Error).message }, sessionKey }, 'heal failed');
    }
    const backlog = stream.backlog ?? [];
    stream.backlog = undefined;
    for (const message of backlog) this.receive(topic, message, deliver);
  }

  private async resync(deliver: MessageDelivery): Promise<void> {
    const since = Date.now() - RESYNC_WINDOW_MS;
    for (const [sessionKey, stream] of this.streams) {
      if (stream.touchedAt < since || stream.lastSeq === undefined || stream.backlog) continue;
      stream.backlog = [];
      await this.heal(sessionKey, stream, deliver);
    }
  }

  private stream(sessionKey: string): Stream {
    const stream = this.streams.get(sessionKey) ?? { touchedAt: 0 };
    stream.touchedAt = Date.now();
    // Re-inserted: Map order is then least recently active first.
    setNewest(this.streams, sessionKey, stream, MAX_STREAMS);
    return stream;
  }
}
