import type { AgentUsage, FinishReason, ToolCall } from '../agents/agent.types.js';

/** One event of a session as clients see it (`session.history`, `session.event`). */
export interface SessionEvent {
  seq: number;
  type: string;
  /** ISO 8601, UTC. */
  at: string;
  data: Record<string, unknown>;
}

/** `session.create` params (the params class implements it; the client library sends it). */
export interface SessionCreateInput {
  agentId?: string;
  metadata?: Record<string, unknown>;
}

/** `session.message` params. */
export interface SessionMessageInput {
  sessionKey: string;
  content: string;
  idempotencyKey?: string;
}

/** `session.history` params. */
export interface SessionHistoryInput {
  sessionKey: string;
  afterSeq?: number;
  limit?: number;
}

/** `session.end` params. */
export interface SessionEndInput {
  sessionKey: string;
  reason?: string;
}

/** `session.cancel` params. */
export interface SessionCancelInput {
  sessionKey: string;
}

/** What `session.cancel` answers: whether a turn was running and was told to stop. */
export interface SessionCancelResult {
  cancelled: boolean;
}

/** What `session.create` answers. */
export interface SessionKeyResult {
  sessionKey: string;
  agentId: string;
  createdAt: string;
}

/** What `session.message` answers: the agent's reply, stored as the `message.agent` event `seq`. */
export interface AgentResponse {
  sessionKey: string;
  messageId: string;
  seq: number;
  content: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage?: AgentUsage;
}

/** A session as `sessions.list` shows it. */
export interface SessionSummary {
  sessionKey: string;
  ownerSubject: string;
  agentId: string;
  status: 'active' | 'ended';
  lastSeq: number;
  createdAt: string;
  endedAt: string | null;
  metadata: Record<string, unknown>;
}

/** Called by the service at points the transport cares about (a WebSocket subscribes then). */
export interface SessionCallHooks {
  /** The caller may see the session; called before any of the call's events is published. */
  onSessionAccess?(sessionKey: string): void;
  /** Cancels the call's turn (finishReason 'cancelled'): an HTTP client that went away. */
  signal?: AbortSignal;
}

export function sessionTopic(sessionKey: string): string {
  return `session:${sessionKey}`;
}
