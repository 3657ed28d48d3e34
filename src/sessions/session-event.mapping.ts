import type { ToolCall } from '../agents/agent.types.js';
import type { AgentResponse, SessionEvent } from './session-api.types.js';
import type { StoredEvent } from './session.types.js';

export function toSessionEvent(event: StoredEvent): SessionEvent {
  return { seq: event.seq, type: event.type, at: event.at, data: event.data };
}

/** The API's answer to a message, from its stored `message.agent`. */
export function toAgentResponse(event: StoredEvent): AgentResponse {
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
