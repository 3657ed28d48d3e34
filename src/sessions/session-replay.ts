import { Injectable } from '@nestjs/common';
import { AgentFailedException } from '../agents/agent.exception.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { EventPageReader } from './event-page.reader.js';
import { EventStore } from './event-store.js';
import type { AgentResponse } from './session-api.types.js';
import { toAgentResponse } from './session-event.mapping.js';
import type { KnownSession } from './session.directory.js';
import { SessionTurnLeases } from './session-turn.leases.js';
import { SessionTurnQueue } from './session-turn.queue.js';
import { SessionTurnRecovery } from './session-turn.recovery.js';
import { IdempotencyConflictException } from './session.exception.js';
import type { StoredEvent } from './session.types.js';

/** Events read per query when looking for a stored answer. */
const PAGE = 1000;

interface PendingMessage {
  content: string;
  response: Promise<AgentResponse>;
  /** Cancels the message's turn (running or still queued). */
  cancel(reason: unknown): void;
}

/**
 * Idempotent messages: the key is stored with the user's message, so a retry on any instance
 * finds it. The answer is returned as stored; while the turn still runs (here, or on another
 * instance, which holds the session's lease) the retry waits for it; a turn whose instance died
 * is recorded as interrupted and the retry gets that failure. The agent runs once either way.
 */
@Injectable()
export class SessionReplay {
  /** Messages with a key accepted here and not answered yet, by session and key. */
  private readonly pending = new Map<string, PendingMessage>();

  constructor(
    private readonly store: EventStore,
    private readonly pages: EventPageReader,
    private readonly queue: SessionTurnQueue,
    private readonly leases: SessionTurnLeases,
    private readonly recovery: SessionTurnRecovery,
    private readonly config: GatewayConfig,
  ) {}

  /** Remembers a message accepted here until its answer is settled. */
  track(
    sessionKey: string,
    idempotencyKey: string,
    content: string,
    response: Promise<AgentResponse>,
    cancel: (reason: unknown) => void,
  ): void {
    const key = pendingKey(sessionKey, idempotencyKey);
    this.pending.set(key, { content, response, cancel });
    const forget = (): void => {
      if (this.pending.get(key)?.response === response) this.pending.delete(key);
    };
    response.then(forget, forget);
  }

  /**
   * The answer to a message already sent with this key; undefined when the key is new. A retry
   * that joins a turn running here and is cancelled itself (`signal`: the client cancelled the
   * retried call) cancels that turn, as the original call would have.
   */
  async replay(
    session: KnownSession,
    idempotencyKey: string,
    content: string,
    signal?: AbortSignal,
  ): Promise<AgentResponse | undefined> {
    const { sessionKey } = session;
    const inFlight = this.pending.get(pendingKey(sessionKey, idempotencyKey));
    if (inFlight) {
      if (inFlight.content !== content) {
        throw new IdempotencyConflictException(sessionKey, idempotencyKey);
      }
      if (signal) {
        const cancel = (): void => inFlight.cancel(signal.reason);
        if (signal.aborted) cancel();
        signal.addEventListener('abort', cancel, { once: true });
        const forget = (): void => signal.removeEventListener('abort', cancel);
        inFlight.response.then(forget, forget);
      }
      return inFlight.response;
    }
    const message = await this.store.findByIdempotencyKey(sessionKey, idempotencyKey);
    if (!message) {
      // It may have been accepted here while we looked.
      const accepted = this.pending.get(pendingKey(sessionKey, idempotencyKey));
      return accepted ? this.replay(session, idempotencyKey, content, signal) : undefined;
    }
    if (message.data.content !== content) {
      throw new IdempotencyConflictException(sessionKey, idempotencyKey);
    }
    const stored = await this.storedOutcome(session, message);
    if (stored) return stored;
    // Unanswered: its turn runs somewhere (which holds the lease until the answer is stored) or
    // died. Taking the lease waits for the first; under it, the second is recorded.
    await this.queue.run(sessionKey, this.config.sessions.queueSize, async () => {
      const lease = await this.leases.hold(sessionKey);
      try {
        await this.recovery.recoverInterrupted(sessionKey, lease);
      } finally {
        await lease.release();
      }
    });
    const outcome = await this.storedOutcome(session, message);
    if (outcome) return outcome;
    throw new AgentFailedException(
      session.agentId,
      'The answer to this message was not found',
      true,
    );
  }

  /** The stored outcome of a message: its `message.agent`, or its `agent.error` thrown again. */
  private async storedOutcome(
    session: KnownSession,
    message: StoredEvent,
  ): Promise<AgentResponse | undefined> {
    const messageId = message.data.messageId;
    const maxBytes = this.config.sessions.maxPageBytes;
    for (let after = message.seq; ;) {
      const page = await this.pages.read(session.sessionKey, after, PAGE, maxBytes);
      for (const event of page.events) {
        if (event.data.messageId !== messageId) continue;
        if (event.type === 'message.agent') return toAgentResponse(event);
        if (event.type === 'agent.error') {
          throw new AgentFailedException(
            session.agentId,
            String(event.data.message),
            event.data.retryable === true,
          );
        }
      }
      if (!page.more) return undefined;
      after = page.events[page.events.length - 1].seq;
    }
  }
}

function pendingKey(sessionKey: string, idempotencyKey: string): string {
  return `${sessionKey}\u0000${idempotencyKey}`;
}
