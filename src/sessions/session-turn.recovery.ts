import { Injectable, Logger } from '@nestjs/common';
import { SessionConversations, type TurnConversation } from './session-conversations.js';
import { SessionEventWriter } from './session-event.writer.js';
import type { HeldTurnLease } from './session-turn.leases.js';

/** What an interrupted turn's `agent.error` says: the client may send the message again. */
export const INTERRUPTED_MESSAGE =
  'The turn of this message was interrupted (the gateway instance running it stopped); send it again with a new idempotency key';

/**
 * Gives an interrupted turn its outcome: a turn that finds the previous one unanswered (its
 * instance died) records that one as interrupted first, so every message.user has an outcome.
 */
@Injectable()
export class SessionTurnRecovery {
  private readonly logger = new Logger('SessionTurns');

  constructor(
    private readonly writer: SessionEventWriter,
    private readonly conversations: SessionConversations,
  ) {}

  /**
   * Records the session's unanswered turn, if any, as interrupted: called under the lease, so no
   * instance is running it any more. Used before a turn, by session.end and by idempotent retries.
   */
  async recoverInterrupted(sessionKey: string, lease: HeldTurnLease): Promise<void> {
    const conversation = await this.conversations.read(sessionKey);
    try {
      await this.closeInterrupted(sessionKey, conversation, lease);
    } finally {
      this.conversations.keep(sessionKey, conversation);
    }
  }

  /** The same, on a conversation the caller has already read (and keeps). */
  async closeInterrupted(
    sessionKey: string,
    conversation: TurnConversation,
    lease: HeldTurnLease,
  ): Promise<void> {
    const messageId = conversation.openMessageId;
    if (messageId === undefined) return;
    this.logger.warn({ sessionKey, messageId }, 'recording an interrupted turn');
    const stored = await this.writer.append(
      sessionKey,
      [
        {
          type: 'agent.error',
          data: { messageId, message: INTERRUPTED_MESSAGE, retryable: true, reason: 'interrupted' },
        },
      ],
      { expectActive: true, fence: lease.fence },
    );
    await this.conversations.advance(sessionKey, conversation, stored);
  }
}
