import { Injectable } from '@nestjs/common';
import type { ConversationMessage } from '../agents/agent.types.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { ConversationCache, messageChars, type CachedConversation } from './conversation.cache.js';
import { EventPageReader } from './event-page.reader.js';
import { EventStore } from './event-store.js';
import { extendConversation } from './session-conversation.js';
import type { StoredEvent } from './session.types.js';

/** Events read per query when a conversation catches up with the log. */
const PAGE = 1000;

/** A session's conversation as of some seq, which a turn extends with the events it stores. */
export class TurnConversation {
  constructor(readonly state: CachedConversation) {}

  get openMessageId(): string | undefined {
    return this.state.openMessageId;
  }

  /** The agent gets its own copy; this one keeps growing with the log. */
  snapshot(): ConversationMessage[] {
    return [...this.state.messages];
  }

  /**
   * Folds events that directly follow what it holds; false (nothing folded) when there is a gap,
   * which the next read from the log fills.
   */
  follow(events: readonly StoredEvent[]): boolean {
    if (events.length === 0 || events[0].seq !== this.state.lastSeq + 1) return false;
    const { messages } = this.state;
    const before = messages.length;
    extendConversation(messages, events);
    for (let i = before; i < messages.length; i++) this.state.chars += messageChars(messages[i]);
    for (const { type, data } of events) {
      if (type === 'message.user' && typeof data.messageId === 'string') {
        this.state.openMessageId = data.messageId;
      } else if (
        (type === 'message.agent' || type === 'agent.error') &&
        data.messageId === this.state.openMessageId
      ) {
        this.state.openMessageId = undefined;
      }
    }
    this.state.lastSeq = events[events.length - 1].seq;
    return true;
  }
}

/**
 * Conversations rebuilt from the log and kept in a bounded cache, so that a turn reads only the
 * events after the last one it saw. Correct with several instances writing, because the log is
 * append-only: another instance's events are simply the ones after `lastSeq`.
 */
@Injectable()
export class SessionConversations {
  private readonly cache = new ConversationCache();

  constructor(
    private readonly pages: EventPageReader,
    private readonly store: EventStore,
    private readonly config: GatewayConfig,
  ) {}

  /**
   * The conversation up to the end of the log; the caller hands it back with `keep`. `lastSeq`,
   * the session's newest seq when known (the turn lease reads it), spares the log read when the
   * cached conversation is already there; else one indexed read of the session row checks it.
   */
  async read(sessionKey: string, lastSeq?: number): Promise<TurnConversation> {
    const cached = this.cache.take(sessionKey);
    const conversation = new TurnConversation(cached ?? { lastSeq: 0, messages: [], chars: 0 });
    const current =
      cached !== undefined &&
      (lastSeq ?? (await this.store.lastSeq(sessionKey))) === cached.lastSeq;
    if (!current) await this.catchUp(sessionKey, conversation);
    return conversation;
  }

  /** Folds `events` if they follow on, else reads the log up to its end. */
  async advance(
    sessionKey: string,
    conversation: TurnConversation,
    events: readonly StoredEvent[],
  ): Promise<void> {
    if (!conversation.follow(events)) await this.catchUp(sessionKey, conversation);
  }

  keep(sessionKey: string, conversation: TurnConversation): void {
    this.cache.put(sessionKey, conversation.state);
  }

  private async catchUp(sessionKey: string, conversation: TurnConversation): Promise<void> {
    for (;;) {
      const page = await this.pages.read(
        sessionKey,
        conversation.state.lastSeq,
        PAGE,
        this.config.sessions.maxPageBytes,
      );
      conversation.follow(page.events);
      if (!page.more) break;
    }
  }
}
