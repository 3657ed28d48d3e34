import { Injectable } from '@nestjs/common';
import { canonicalJson } from '../core/audit/canonical-json.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { EventStore, type AppendFence } from './event-store.js';
import { SessionEndedError } from './event-store.errors.js';
import { SessionDirectory } from './session.directory.js';
import { SessionEventsPublisher } from './session-events.publisher.js';
import { EventTooLargeException, SessionEndedException } from './session.exception.js';
import type { NewEvent, StoredEvent } from './session.types.js';

export interface WriteOptions {
  /** Refuse the write once the session has ended (everything but session.ended itself). */
  expectActive?: boolean;
  /** The turn lease the write must still hold. */
  fence?: AppendFence;
}

/**
 * Every write of the sessions feature: sized (an event over `sessions.maxEventBytes` is refused,
 * nothing stored), appended, then published to subscribers on every instance.
 */
@Injectable()
export class SessionEventWriter {
  constructor(
    private readonly store: EventStore,
    private readonly publisher: SessionEventsPublisher,
    private readonly directory: SessionDirectory,
    private readonly config: GatewayConfig,
  ) {}

  async append(
    sessionKey: string,
    events: NewEvent[],
    options: WriteOptions = {},
  ): Promise<StoredEvent[]> {
    const maxBytes = this.config.sessions.maxEventBytes;
    // Serialized once: the canonical text is both what is sized (member order does not change
    // its length) and what the store keeps.
    const serialized = events.map((event) => {
      const json = canonicalJson(event.data ?? {});
      const size = Buffer.byteLength(json, 'utf8');
      if (size > maxBytes) throw new EventTooLargeException(event.type, size, maxBytes);
      return { ...event, json };
    });
    let stored: StoredEvent[];
    try {
      stored = await this.store.append(sessionKey, serialized, options);
    } catch (error) {
      if (error instanceof SessionEndedError) {
        // Ended elsewhere (another instance) since we looked: remember it.
        this.directory.markEnded(sessionKey);
        throw new SessionEndedException(sessionKey);
      }
      throw error;
    }
    this.publisher.stored(stored);
    return stored;
  }
}
