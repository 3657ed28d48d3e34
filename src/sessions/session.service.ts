import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AgentFailedException } from '../agents/agent.exception.js';
import { AgentRegistry } from '../agents/agent.registry.js';
import type { AgentRunInput, ConversationMessage, ToolCall } from '../agents/agent.types.js';
import { ADMIN_SCOPE, type Caller } from '../core/auth/caller.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { GatewayException } from '../core/errors/gateway.exception.js';
import type { RecordedToolCall, RecordedToolResult } from '../tools/tool-run-recorder.js';
import { ToolRegistry } from '../tools/tool.registry.js';
import { EventStore } from './event-store.js';
import { IdempotencyKeyConflictError, SessionEndedError } from './event-store.errors.js';
import type {
  AgentResponse,
  SessionCallHooks,
  SessionEvent,
  SessionKeyResult,
  SessionSummary,
} from './session-api.types.js';
import { ConversationCache, messageChars } from './conversation.cache.js';
import { extendConversation } from './session-conversation.js';
import type { SessionCreateParams } from './session-create.params.js';
import type { SessionEndParams } from './session-end.params.js';
import { SessionEventsPublisher } from './session-events.publisher.js';
import type { SessionHistoryParams } from './session-history.params.js';
import type { SessionMessageParams } from './session-message.params.js';
import { SessionTurnQueue } from './session-turn.queue.js';
import {
  ContentTooLongException,
  IdempotencyConflictException,
  SessionEndedException,
  SessionNotFoundException,
} from './session.exception.js';
import type { NewEvent, SessionRecord, StoredEvent } from './session.types.js';
import type { SessionsListParams } from './sessions-list.params.js';

/** Sessions whose owner and agent are remembered, so a call need not read them again. */
const MAX_KNOWN_SESSIONS = 10_000;

/** What calls need to know about a session: whose it is, its agent, and whether it ended. */
type KnownSession = Pick<SessionRecord, 'sessionKey' | 'ownerSubject' | 'agentId' | 'status'>;

/** Events read per query when a turn rebuilds the conversation or looks for a stored reply. */
const PAGE = 1000;

interface PendingMessage {
  content: string;
  response: Promise<AgentResponse>;
}

/**
 * Sessions: ownership, the turn queue, idempotency, and running a session's agent with
 * everything it does stored as events and published as it happens.
 */
@Injectable()
export class SessionService implements OnModuleDestroy {
  private readonly logger = new Logger(SessionService.name);
  private readonly queue = new SessionTurnQueue();
  /** Messages with an idempotency key accepted here and not answered yet, by session and key. */
  private readonly pending = new Map<string, PendingMessage>();
  /** Aborts the running turn of a session (the session ended, or the gateway stops). */
  private readonly running = new Map<string, AbortController>();
  private readonly conversations = new ConversationCache();
  private readonly known = new Map<string, KnownSession>();

  constructor(
    private readonly store: EventStore,
    private readonly agents: AgentRegistry,
    private readonly tools: ToolRegistry,
    private readonly publisher: SessionEventsPublisher,
    private readonly config: GatewayConfig,
  ) {}

  onModuleDestroy(): void {
    for (const controller of this.running.values()) controller.abort(new Error('shutdown'));
  }

  async create(
    caller: Caller,
    params: SessionCreateParams,
    hooks: SessionCallHooks = {},
  ): Promise<SessionKeyResult> {
    const agentId = params.agentId ?? this.agents.defaultAgentId;
    this.agents.get(agentId);
    const { session, event } = await this.store.createSession({
      ownerSubject: caller.subject,
      agentId,
      metadata: params.metadata,
    });
    this.remember({
      sessionKey: session.sessionKey,
      ownerSubject: caller.subject,
      agentId,
      status: 'active',
    });
    hooks.onSessionAccess?.(session.sessionKey);
    this.publisher.stored([event]);
    return { sessionKey: session.sessionKey, agentId, createdAt: session.createdAt };
  }

  async message(
    caller: Caller,
    params: SessionMessageParams,
    hooks: SessionCallHooks = {},
  ): Promise<AgentResponse> {
    const max = this.config.sessions.maxContentLength;
    if (params.content.length > max) throw new ContentTooLongException(params.content.length, max);
    const session = await this.owned(caller, params.sessionKey);
    const { sessionKey, idempotencyKey } = params;

    if (idempotencyKey !== undefined) {
      const replay = await this.replay(session, idempotencyKey, params.content);
      if (replay) return replay;
    }
    if (session.status === 'ended') throw new SessionEndedException(sessionKey);
    hooks.onSessionAccess?.(sessionKey);

    const response = this.queue.run(sessionKey, this.config.sessions.queueSize, () =>
      this.turn(caller, session, params),
    );
    if (idempotencyKey !== undefined) {
      const key = pendingKey(sessionKey, idempotencyKey);
      this.pending.set(key, { content: params.content, response });
      const forget = (): void => {
        if (this.pending.get(key)?.response === response) this.pending.delete(key);
      };
      response.then(forget, forget);
    }
    return response;
  }

  async history(caller: Caller, params: SessionHistoryParams): Promise<SessionEvent[]> {
    await this.owned(caller, params.sessionKey);
    const events = await this.store.history(
      params.sessionKey,
      params.afterSeq ?? 0,
      params.limit ?? 100,
    );
    return events.map(toSessionEvent);
  }

  /** Ends the session (ending twice is harmless) and cancels its running turn. */
  async end(caller: Caller, params: SessionEndParams): Promise<{ ok: true }> {
    const session = await this.owned(caller, params.sessionKey);
    if (session.status === 'active') {
      const data = params.reason === undefined ? {} : { reason: params.reason };
      try {
        this.publisher.stored(
          await this.store.append(params.sessionKey, [{ type: 'session.ended', data }], {
            expectActive: true,
          }),
        );
      } catch (error) {
        // Someone else ended it first: the outcome is the same.
        if (!(error instanceof SessionEndedError)) throw error;
      }
      session.status = 'ended';
    }
    this.running.get(params.sessionKey)?.abort(new Error('session ended'));
    return { ok: true };
  }

  /** Sessions newest first; an admin sees everyone's (optionally one owner's), others their own. */
  async list(caller: Caller, params: SessionsListParams): Promise<SessionSummary[]> {
    const admin = caller.scopes.has(ADMIN_SCOPE);
    const ownerSubject = admin ? params.ownerSubject : caller.subject;
    if (params.after !== undefined) await this.owned(caller, params.after);
    const sessions = await this.store.listSessions({
      ownerSubject,
      limit: params.limit ?? 100,
      after: params.after,
    });
    return sessions.map((s) => ({
      sessionKey: s.sessionKey,
      ownerSubject: s.ownerSubject,
      agentId: s.agentId,
      status: s.status,
      lastSeq: s.lastSeq,
      createdAt: s.createdAt,
      endedAt: s.endedAt,
      metadata: s.metadata,
    }));
  }

  /** Records a client's tool call (`tools.execute { sessionKey }`) in an active session of theirs. */
  async recordToolCall(caller: Caller, sessionKey: string, call: RecordedToolCall): Promise<void> {
    const session = await this.owned(caller, sessionKey);
    if (session.status === 'ended') throw new SessionEndedException(sessionKey);
    await this.append(sessionKey, [{ type: 'tool.call', data: { ...call } }], true);
  }

  /** Records the result of a call begun with recordToolCall (even if the session ended since). */
  async recordToolResult(
    caller: Caller,
    sessionKey: string,
    result: RecordedToolResult,
  ): Promise<void> {
    await this.owned(caller, sessionKey);
    await this.append(sessionKey, [{ type: 'tool.result', data: { ...result } }]);
  }

  // ---------------------------------------------------------------------------------------

  /**
   * The session if the caller may see it; anyone else's is reported as not existing. Owner and
   * agent never change, so they are remembered; `status` may lag behind another instance's
   * session.end, which the append's own check (expectActive) catches.
   */
  private async owned(caller: Caller, sessionKey: string): Promise<KnownSession> {
    let session = this.known.get(sessionKey);
    if (!session) {
      const record = await this.store.getSession(sessionKey);
      if (!record) throw new SessionNotFoundException(sessionKey);
      session = {
        sessionKey,
        ownerSubject: record.ownerSubject,
        agentId: record.agentId,
        status: record.status,
      };
      this.remember(session);
    }
    if (session.ownerSubject !== caller.subject && !caller.scopes.has(ADMIN_SCOPE)) {
      throw new SessionNotFoundException(sessionKey);
    }
    return session;
  }

  private remember(session: KnownSession): void {
    if (this.known.size >= MAX_KNOWN_SESSIONS) {
      // Maps iterate in insertion order: drop the oldest.
      const oldest = this.known.keys().next();
      if (!oldest.done) this.known.delete(oldest.value);
    }
    this.known.set(session.sessionKey, session);
  }

  private async append(
    sessionKey: string,
    events: NewEvent[],
    expectActive = false,
  ): Promise<StoredEvent[]> {
    let stored: StoredEvent[];
    try {
      stored = await this.store.append(sessionKey, events, { expectActive });
    } catch (error) {
      if (error instanceof SessionEndedError) {
        // Ended elsewhere (another instance) since we looked: remember it.
        const known = this.known.get(sessionKey);
        if (known) known.status = 'ended';
        throw new SessionEndedException(sessionKey);
      }
      throw error;
    }
    this.publisher.stored(stored);
    return stored;
  }

  /**
   * The answer to a message already sent with this idempotency key: still running here, or
   * stored. Undefined when the key is new.
   */
  private async replay(
    session: KnownSession,
    idempotencyKey: string,
    content: string,
  ): Promise<AgentResponse | undefined> {
    const { sessionKey } = session;
    const inFlight = this.pending.get(pendingKey(sessionKey, idempotencyKey));
    if (inFlight) {
      if (inFlight.content !== content) {
        throw new IdempotencyConflictException(sessionKey, idempotencyKey);
      }
      return inFlight.response;
    }
    const message = await this.store.findByIdempotencyKey(sessionKey, idempotencyKey);
    if (!message) {
      // It may have been accepted while we looked.
      const accepted = this.pending.get(pendingKey(sessionKey, idempotencyKey));
      return accepted ? this.replay(session, idempotencyKey, content) : undefined;
    }
    if (message.data.content !== content) {
      throw new IdempotencyConflictException(sessionKey, idempotencyKey);
    }
    return this.storedReply(session, message);
  }

  /** The stored outcome of a message: its `message.agent`, or its `agent.error` thrown again. */
  private async storedReply(session: KnownSession, message: StoredEvent): Promise<AgentResponse> {
    const messageId = message.data.messageId;
    for (let after = message.seq; ;) {
      const page = await this.store.history(session.sessionKey, after, PAGE);
      for (const event of page) {
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
      if (page.length < PAGE) break;
      after = page[page.length - 1].seq;
    }
    // The gateway stopped during that turn: the message is stored, its answer never was.
    throw new AgentFailedException(
      session.agentId,
      'The turn of this message was interrupted before it answered; send it with a new idempotency key',
      false,
    );
  }

  private async turn(
    caller: Caller,
    session: KnownSession,
    params: SessionMessageParams,
  ): Promise<AgentResponse> {
    const { sessionKey } = session;
    const messageId = `msg_${randomUUID()}`;
    try {
      await this.append(
        sessionKey,
        [
          {
            type: 'message.user',
            data: { messageId, content: params.content },
            ...(params.idempotencyKey === undefined
              ? {}
              : { idempotencyKey: params.idempotencyKey }),
          },
        ],
        true,
      );
    } catch (error) {
      // Another gateway instance stored the same key meanwhile.
      if (error instanceof IdempotencyKeyConflictError) {
        throw new IdempotencyConflictException(sessionKey, params.idempotencyKey ?? '');
      }
      throw error;
    }

    const controller = new AbortController();
    this.running.set(sessionKey, controller);
    try {
      return await this.runAgent(caller, session, messageId, controller.signal);
    } finally {
      if (this.running.get(sessionKey) === controller) this.running.delete(sessionKey);
    }
  }

  private async runAgent(
    caller: Caller,
    session: KnownSession,
    messageId: string,
    signal: AbortSignal,
  ): Promise<AgentResponse> {
    const { sessionKey, agentId } = session;
    const toolCalls: ToolCall[] = [];
    let index = 0;
    try {
      const agent = this.agents.get(agentId);
      const allowed = agent.tools;
      const input: AgentRunInput = {
        sessionKey,
        messages: await this.conversation(sessionKey),
        tools: this.tools
          .list()
          .filter((tool) => allowed === undefined || allowed.includes(tool.name)),
        executeTool: (name, args, toolSignal) =>
          this.tools.execute(name, args, { caller, sessionKey, signal: toolSignal }),
      };
      for await (const event of this.agents.run(agentId, input, signal)) {
        switch (event.type) {
          case 'text-delta':
            this.publisher.delta(sessionKey, messageId, index++, event.delta);
            break;
          case 'tool-call': {
            const call = {
              toolCallId: event.toolCallId,
              name: event.name,
              arguments: event.arguments,
            };
            toolCalls.push(call);
            const text = event.text ? { text: event.text } : {};
            await this.append(sessionKey, [
              { type: 'tool.call', data: { messageId, ...call, ...text } },
            ]);
            break;
          }
          case 'tool-result':
            await this.append(sessionKey, [
              {
                type: 'tool.result',
                data: {
                  messageId,
                  toolCallId: event.toolCallId,
                  name: event.name,
                  result: event.result,
                },
              },
            ]);
            break;
          case 'finish': {
            const data: Record<string, unknown> = {
              messageId,
              content: event.content,
              toolCalls,
              finishReason: event.finishReason,
            };
            if (event.usage !== undefined) data.usage = event.usage;
            const [stored] = await this.append(sessionKey, [{ type: 'message.agent', data }]);
            return toAgentResponse(stored);
          }
          case 'error':
            throw new AgentFailedException(agentId, event.message, event.retryable);
        }
      }
      throw new AgentFailedException(agentId, `Agent "${agentId}" ended without an answer`, false);
    } catch (error) {
      const failure =
        error instanceof GatewayException
          ? error
          : new AgentFailedException(agentId, `Agent "${agentId}" failed`, false);
      if (!(error instanceof GatewayException)) {
        this.logger.error({ err: error, sessionKey }, 'turn failed unexpectedly');
      }
      const retryable = failure.data?.retryable === true;
      await this.append(sessionKey, [
        { type: 'agent.error', data: { messageId, message: failure.message, retryable } },
      ]);
      throw failure;
    }
  }

  /** The conversation so far: the cached one extended by the events after it, or rebuilt. */
  private async conversation(sessionKey: string): Promise<ConversationMessage[]> {
    const conversation = this.conversations.take(sessionKey) ?? {
      lastSeq: 0,
      messages: [],
      chars: 0,
    };
    for (;;) {
      const page = await this.store.history(sessionKey, conversation.lastSeq, PAGE);
      const before = conversation.messages.length;
      extendConversation(conversation.messages, page);
      for (let i = before; i < conversation.messages.length; i++) {
        conversation.chars += messageChars(conversation.messages[i]);
      }
      conversation.lastSeq = page.at(-1)?.seq ?? conversation.lastSeq;
      if (page.length < PAGE) break;
    }
    this.conversations.put(sessionKey, conversation);
    // The agent gets its own array; the cached one keeps growing with the log.
    return [...conversation.messages];
  }
}

function pendingKey(sessionKey: string, idempotencyKey: string): string {
  return `${sessionKey}\u0000${idempotencyKey}`;
}

function toSessionEvent(event: StoredEvent): SessionEvent {
  return { seq: event.seq, type: event.type, at: event.at, data: event.data };
}

function toAgentResponse(event: StoredEvent): AgentResponse {
  const data = event.data;
  const response: AgentResponse = {
    sessionKey: event.sessionKey,
    messageId: String(data.messageId),
    seq: event.seq,
    content: typeof data.content === 'string' ? data.content : '',
    toolCalls: (data.toolCalls ?? []) as ToolCall[],
    finishReason: data.finishReason as AgentResponse['finishReason'],
  };
  if (data.usage !== undefined) response.usage = data.usage as AgentResponse['usage'];
  return response;
}
