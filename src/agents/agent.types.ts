import type { ToolDescriptor, ToolResult } from '../tools/tool.types.js';

/** A tool call an agent made (`tool.call` events, `AgentResponse.toolCalls`). */
export interface ToolCall {
  toolCallId: string;
  name: string;
  arguments: Record<string, unknown>;
}

export interface UserMessage {
  role: 'user';
  content: string;
}

export interface AssistantMessage {
  role: 'assistant';
  content: string;
  /** The calls this turn made, answered by the `tool` messages that follow. */
  toolCalls?: ToolCall[];
}

export interface ToolMessage {
  role: 'tool';
  toolCallId: string;
  name: string;
  /** The result's text blocks joined, for models that take tool output as text. */
  content: string;
  isError: boolean;
  /** The whole result when the log has it (structured content, other blocks). */
  result?: ToolResult;
}

/** The conversation as the sessions module rebuilds it from the event log, oldest first. */
export type ConversationMessage = UserMessage | AssistantMessage | ToolMessage;

export interface AgentRunInput {
  sessionKey: string;
  messages: ConversationMessage[];
  /** The tools the agent may call in this run (its allow list applied). */
  tools: readonly ToolDescriptor[];
  /**
   * Runs a tool through the ToolRegistry (validated, timed out, recorded in the session). Throws
   * the registry's exceptions; a result with `isError` is a failure to show to the model.
   */
  executeTool(
    name: string,
    args: Record<string, unknown>,
    signal: AbortSignal,
    /** The call's id as in its `tool-call` event: a call that needs approval is asked under it. */
    toolCallId?: string,
  ): Promise<ToolResult>;
  /**
   * Tokens this run may still spend (the tightest budget left); undefined means no budget. An
   * agent that can, stops before a model call once its usage reaches it, finishing with
   * `budget_exceeded`.
   */
  tokenBudget?: number;
}

/** A token budget: `tokens` per fixed `window` (ms, aligned to the epoch), or in all. */
export interface TokenBudget {
  tokens: number;
  window?: number;
}

/** An agent's own budgets (`budgets` of its config entry), replacing the global ones per kind. */
export interface AgentBudgets {
  session?: TokenBudget;
  subject?: TokenBudget;
}

export type FinishReason =
  | 'stop'
  | 'length'
  | 'tool_calls'
  | 'error'
  | 'cancelled'
  /** The run reached its token budget and stopped before its next model call. */
  | 'budget_exceeded';

export interface AgentUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
}

export interface AgentTextDeltaEvent {
  type: 'text-delta';
  delta: string;
}

export interface AgentToolCallEvent {
  type: 'tool-call';
  toolCallId: string;
  name: string;
  arguments: Record<string, unknown>;
  /**
   * Text the model wrote in this step before its calls, on the step's first call: stored with
   * it, so the rebuilt conversation keeps it where the model put it.
   */
  text?: string;
}

export interface AgentToolResultEvent {
  type: 'tool-result';
  toolCallId: string;
  name: string;
  result: ToolResult;
}

/** The final answer; `content` is the whole text (the concatenated deltas of the last step). */
export interface AgentFinishEvent {
  type: 'finish';
  content: string;
  finishReason: FinishReason;
  usage?: AgentUsage;
}

/** A failure the agent reports itself (provider down, broken stream); `retryable` tells clients. */
export interface AgentErrorEvent {
  type: 'error';
  message: string;
  retryable: boolean;
}

export type AgentEvent =
  | AgentTextDeltaEvent
  | AgentToolCallEvent
  | AgentToolResultEvent
  | AgentFinishEvent
  | AgentErrorEvent;

/** The public description of an agent (`agent.list`). */
export interface AgentInfo {
  id: string;
  name: string;
  description: string;
  /** `builtin`, or the model provider (`openai`, `anthropic`, `openai-compatible`…). */
  provider: string;
  model?: string;
}

/** `agent.status` params (the params class implements it; the client library sends it). */
export interface AgentStatusInput {
  agentId: string;
}

export type AgentState = 'idle' | 'busy' | 'unavailable';

/** Live state of an agent (`agent.status`). */
export interface AgentStatus {
  agentId: string;
  state: AgentState;
  activeRuns: number;
  totalRuns: number;
  lastError?: string;
  /** ISO 8601: when the latest run started. */
  lastRunAt?: string;
  /** Tokens the agent's turns have used, across instances and restarts. */
  usage?: Required<AgentUsage>;
}

/**
 * An agent. `run` streams what it does and ends with exactly one terminal event, `finish` or
 * `error`, as its last event. It must stop promptly when `signal` aborts, finishing with
 * `cancelled`. Messages and tools come in `input`; an agent keeps no conversation state itself.
 */
export interface Agent extends AgentInfo {
  /** Names of the tools this agent may call; undefined means every registered tool. */
  readonly tools?: readonly string[];
  /** Token budgets of this agent's turns, replacing the global `budgets` kind by kind. */
  readonly budgets?: AgentBudgets;
  run(input: AgentRunInput, signal: AbortSignal): AsyncIterable<AgentEvent>;
}
