import { Injectable } from '@nestjs/common';
import type { RpcCallContext } from '../core/rpc/rpc-call-context.js';
import { RpcErrorCode } from '../core/rpc/rpc-error-code.js';
import { RpcMethod } from '../core/rpc/rpc-method.decorator.js';
import { requireCaller } from '../core/auth/require-caller.js';
import type {
  AgentResponse,
  SessionCallHooks,
  SessionCancelResult,
  SessionEvent,
  SessionKeyResult,
  SessionSummary,
} from './session-api.types.js';
import { SessionCancelParams } from './session-cancel.params.js';
import { SessionCreateParams } from './session-create.params.js';
import { SessionEndParams } from './session-end.params.js';
import { SessionHistoryParams } from './session-history.params.js';
import { SessionMessageParams } from './session-message.params.js';
import { SessionSubscriptions } from './session-subscriptions.js';
import { SessionService } from './session.service.js';
import { SessionsListParams } from './sessions-list.params.js';

const SESSION_EVENT_SCHEMA = {
  type: 'object',
  required: ['seq', 'type', 'at', 'data'],
  properties: {
    seq: { type: 'integer', minimum: 1 },
    type: { type: 'string' },
    at: { type: 'string', format: 'date-time' },
    data: { type: 'object' },
  },
};

const AGENT_RESPONSE_SCHEMA = {
  type: 'object',
  required: ['sessionKey', 'messageId', 'seq', 'content', 'toolCalls', 'finishReason'],
  properties: {
    sessionKey: { type: 'string' },
    messageId: { type: 'string' },
    seq: { type: 'integer' },
    content: { type: 'string' },
    toolCalls: { type: 'array', items: { type: 'object' } },
    finishReason: {
      enum: ['stop', 'length', 'tool_calls', 'error', 'cancelled', 'budget_exceeded'],
    },
    usage: { type: 'object' },
  },
};

const SESSION_SUMMARY_SCHEMA = {
  type: 'object',
  required: ['sessionKey', 'ownerSubject', 'agentId', 'status', 'lastSeq', 'createdAt'],
  properties: {
    sessionKey: { type: 'string' },
    ownerSubject: { type: 'string' },
    agentId: { type: 'string' },
    status: { enum: ['active', 'ended'] },
    lastSeq: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    endedAt: { type: ['string', 'null'], format: 'date-time' },
    metadata: { type: 'object' },
  },
};

/** The session methods: params in, service call, result out; a WebSocket follows the session. */
@Injectable()
export class SessionRpc {
  constructor(
    private readonly sessions: SessionService,
    private readonly subscriptions: SessionSubscriptions,
  ) {}

  @RpcMethod('session.create', {
    scope: 'sessions:write',
    params: SessionCreateParams,
    description: 'Creates a session with an agent (the default agent when agentId is omitted).',
    result: {
      name: 'SessionKey',
      schema: {
        type: 'object',
        required: ['sessionKey', 'agentId', 'createdAt'],
        properties: {
          sessionKey: { type: 'string' },
          agentId: { type: 'string' },
          createdAt: { type: 'string', format: 'date-time' },
        },
      },
    },
    errors: [RpcErrorCode.InvalidParams, RpcErrorCode.NotFound],
  })
  create(params: SessionCreateParams, ctx: RpcCallContext): Promise<SessionKeyResult> {
    return this.sessions.create(requireCaller(ctx.caller), params, this.follow(ctx));
  }

  @RpcMethod('session.message', {
    scope: 'sessions:write',
    params: SessionMessageParams,
    description:
      "Sends a user message and answers with the agent's reply; over a WebSocket the turn streams as session.delta and session.event notifications.",
    result: { name: 'AgentResponse', schema: AGENT_RESPONSE_SCHEMA },
    errors: [
      RpcErrorCode.InvalidParams,
      RpcErrorCode.NotFound,
      RpcErrorCode.Conflict,
      RpcErrorCode.AgentFailed,
      RpcErrorCode.BudgetExceeded,
    ],
  })
  message(params: SessionMessageParams, ctx: RpcCallContext): Promise<AgentResponse> {
    // Over HTTP nobody can read the answer once the client is gone: its turn is cancelled. A
    // WebSocket client that drops reconnects and resumes by seq, so its turn runs on, unless
    // the client cancels the call itself ($/cancelRequest): cancelSignal is both.
    const hooks: SessionCallHooks = { ...this.follow(ctx), signal: ctx.cancelSignal };
    return this.sessions.message(requireCaller(ctx.caller), params, hooks);
  }

  @RpcMethod('session.history', {
    scope: 'sessions:read',
    params: SessionHistoryParams,
    description:
      'Events with seq > afterSeq, oldest first: at most limit, and at most sessions.maxPageBytes of event data (a page always holds at least one event), so a page may be shorter than limit before the end: page on with afterSeq = the last seq until a page comes back empty. Over a WebSocket, the page that reaches the end of the log also (re)subscribes: live events continue right after its last seq, each exactly once; while pages that stop short are read, live events wait for that last page.',
    result: { name: 'SessionEvent[]', schema: { type: 'array', items: SESSION_EVENT_SCHEMA } },
    errors: [RpcErrorCode.InvalidParams, RpcErrorCode.NotFound],
  })
  async history(params: SessionHistoryParams, ctx: RpcCallContext): Promise<SessionEvent[]> {
    const read = () => this.sessions.history(requireCaller(ctx.caller), params);
    if (!ctx.connection) return (await read()).events;
    return this.subscriptions.resume(ctx.connection, params.sessionKey, read);
  }

  @RpcMethod('session.end', {
    scope: 'sessions:write',
    params: SessionEndParams,
    description: 'Ends a session and cancels its running turn; ending twice is harmless.',
    result: {
      name: 'Ok',
      schema: { type: 'object', required: ['ok'], properties: { ok: { const: true } } },
    },
    errors: [RpcErrorCode.InvalidParams, RpcErrorCode.NotFound],
  })
  end(params: SessionEndParams, ctx: RpcCallContext): Promise<{ ok: true }> {
    return this.sessions.end(requireCaller(ctx.caller), params);
  }

  @RpcMethod('session.cancel', {
    scope: 'sessions:write',
    params: SessionCancelParams,
    description:
      "Stops the session's running turn, from any connection, transport or instance: it records its partial answer as message.agent with finishReason cancelled, and the session takes the next message at once. Answers once that is stored; cancelled is false when no turn was running.",
    result: {
      name: 'SessionCancelResult',
      schema: {
        type: 'object',
        required: ['cancelled'],
        properties: { cancelled: { type: 'boolean' } },
      },
    },
    errors: [RpcErrorCode.InvalidParams, RpcErrorCode.NotFound],
  })
  cancel(params: SessionCancelParams, ctx: RpcCallContext): Promise<SessionCancelResult> {
    return this.sessions.cancel(requireCaller(ctx.caller), params);
  }

  @RpcMethod('sessions.list', {
    scope: 'admin',
    params: SessionsListParams,
    description:
      "Every session, newest first (for the dashboard); ownerSubject filters, after is the previous page's last sessionKey.",
    result: { name: 'SessionSummary[]', schema: { type: 'array', items: SESSION_SUMMARY_SCHEMA } },
    errors: [RpcErrorCode.InvalidParams, RpcErrorCode.NotFound],
  })
  list(params: SessionsListParams, ctx: RpcCallContext): Promise<SessionSummary[]> {
    return this.sessions.list(requireCaller(ctx.caller), params);
  }

  private follow(ctx: RpcCallContext): SessionCallHooks {
    const connection = ctx.connection;
    if (!connection) return {};
    return { onSessionAccess: (key) => this.subscriptions.follow(connection, key) };
  }
}
