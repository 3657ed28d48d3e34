import { Injectable } from '@nestjs/common';
import { AgentNotFoundException } from '../agents/agent.exception.js';
import { AgentRegistry } from '../agents/agent.registry.js';
import type { Caller } from '../core/identity/caller.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import type { AgentResponse } from '../sessions/session-api.types.js';
import { SessionService } from '../sessions/session.service.js';
import {
  ChatChunkBuilder,
  completionId,
  toChatCompletion,
  type ChatCompletion,
} from './chat-completion.mapper.js';
import { ChatCompletionValidator } from './chat-completion.validator.js';
import { toChatTurnInput, type ChatTurnInput } from './chat-turn.input.js';
import { OpenAiError } from './openai-error.js';
import { SessionTurnTaps } from './session-turn.taps.js';
import type { ChunkSink } from './sse-chunk.writer.js';

/** A call checked and given its session, ready to run: nothing of it has run yet. */
export interface ChatTurn extends ChatTurnInput {
  sessionKey: string;
  /** The agent id, as the request named it. */
  model: string;
  /** Unix seconds, as OpenAI stamps its objects. */
  created: number;
}

/**
 * `POST /v1/chat/completions` as a session turn: the request is translated into one
 * `session.message` of SessionService (the same ownership, queue, lease, recording and limits
 * as over JSON-RPC) and the turn's answer, or its stream of deltas, back into OpenAI's objects.
 */
@Injectable()
export class ChatCompletionsService {
  constructor(
    private readonly sessions: SessionService,
    private readonly agents: AgentRegistry,
    private readonly taps: SessionTurnTaps,
    private readonly validator: ChatCompletionValidator,
    private readonly config: GatewayConfig,
  ) {}

  /**
   * Checks the request and finds or creates its session. Every refusal happens here, before
   * anything is stored, except those of the turn itself (session ended or busy, agent failed).
   */
  async prepare(caller: Caller, body: unknown, sessionKey: string | undefined): Promise<ChatTurn> {
    const request = this.validator.parse(body);
    const model = request.model;
    if (!this.agents.has(model)) throw new AgentNotFoundException(model);
    const input = toChatTurnInput(request, {
      continuing: sessionKey !== undefined,
      maxContentLength: this.config.sessions.maxContentLength,
    });
    const created = Math.floor(Date.now() / 1000);
    if (sessionKey === undefined) {
      const session = await this.sessions.create(caller, { agentId: model });
      return { ...input, sessionKey: session.sessionKey, model, created };
    }
    const agentId = await this.agentOf(caller, sessionKey);
    if (agentId !== model) {
      throw OpenAiError.invalidRequest(
        `Session "${sessionKey}" runs the model "${agentId}", not "${model}"`,
        'model_mismatch',
        'model',
      );
    }
    return { ...input, sessionKey, model, created };
  }

  /** The whole answer at once. `signal` cancels the turn (the client went away). */
  async complete(caller: Caller, turn: ChatTurn, signal: AbortSignal): Promise<ChatCompletion> {
    const response = await this.send(caller, turn, signal);
    return toChatCompletion(response, turn.model, turn.created);
  }

  /**
   * The answer as chunks: the role, the agent's deltas as they are published, the rest of the
   * stored answer if the deltas fell short of it, the finish reason, usage if asked, `[DONE]`.
   * A turn that fails before its first chunk throws (a plain HTTP error); after, it ends the
   * stream with an error event.
   */
  async stream(
    caller: Caller,
    turn: ChatTurn,
    signal: AbortSignal,
    sink: ChunkSink,
  ): Promise<void> {
    let chunks: ChatChunkBuilder | undefined;
    let streamed = '';
    const begin = (messageId: string): ChatChunkBuilder => {
      if (!chunks) {
        chunks = new ChatChunkBuilder(completionId(messageId), turn.model, turn.created);
        sink.send(chunks.role());
      }
      return chunks;
    };
    const tap = this.taps.open(turn.sessionKey, turn.content, (messageId, delta) => {
      const builder = begin(messageId);
      streamed += delta;
      sink.send(builder.content(delta));
    });
    let response: AgentResponse;
    try {
      response = await this.send(caller, turn, signal);
    } catch (error) {
      if (!chunks) throw error;
      sink.fail(error);
      return;
    } finally {
      tap.close();
    }
    const builder = begin(response.messageId);
    // An agent that streamed less than it answered (or nothing): the rest in one chunk.
    if (response.content.length > streamed.length && response.content.startsWith(streamed)) {
      sink.send(builder.content(response.content.slice(streamed.length)));
    }
    sink.send(builder.finish(response, turn.includeUsage));
    if (turn.includeUsage) sink.send(builder.usage(response));
    sink.end();
  }

  private send(caller: Caller, turn: ChatTurn, signal: AbortSignal): Promise<AgentResponse> {
    return this.sessions.message(
      caller,
      { sessionKey: turn.sessionKey, content: turn.content },
      { signal },
    );
  }

  /** The session's agent, from its first event; another subject's session is not found. */
  private async agentOf(caller: Caller, sessionKey: string): Promise<string> {
    const { events } = await this.sessions.history(caller, { sessionKey, limit: 1 });
    const agentId = events[0]?.data.agentId;
    return typeof agentId === 'string' ? agentId : this.agents.defaultAgentId;
  }
}
