import type { ConversationMessage, ToolCall } from '../agents/agent.types.js';
import type { ToolResult } from '../tools/tool.types.js';
import type { StoredEvent } from './session.types.js';

/**
 * The conversation an agent sees, rebuilt from the event log alone, so that a restarted
 * gateway continues a session where it stopped. Tool events recorded by clients
 * (`tools.execute`, without a messageId) are not the agent's and are left out.
 */
export function rebuildConversation(events: readonly StoredEvent[]): ConversationMessage[] {
  return extendConversation([], events);
}

/**
 * Folds events that follow `messages` into it, in place: the log is append-only, so a
 * conversation rebuilt up to some seq stays valid and only later events need reading.
 */
export function extendConversation(
  messages: ConversationMessage[],
  events: readonly StoredEvent[],
): ConversationMessage[] {
  for (const { type, data } of events) {
    switch (type) {
      case 'message.user':
        messages.push({ role: 'user', content: String(data.content) });
        break;
      case 'tool.call': {
        if (data.messageId === undefined) break;
        const call: ToolCall = {
          toolCallId: String(data.toolCallId),
          name: String(data.name),
          arguments: (data.arguments ?? {}) as Record<string, unknown>,
        };
        // Calls made in one step belong to one assistant message, before their results; the
        // step's text, if the model wrote any, came with its first call.
        const text = typeof data.text === 'string' ? data.text : '';
        const last = messages.at(-1);
        if (text === '' && last?.role === 'assistant' && last.toolCalls) {
          last.toolCalls.push(call);
        } else {
          messages.push({ role: 'assistant', content: text, toolCalls: [call] });
        }
        break;
      }
      case 'tool.result': {
        if (data.messageId === undefined) break;
        const result = data.result as ToolResult;
        messages.push({
          role: 'tool',
          toolCallId: String(data.toolCallId),
          name: String(data.name),
          content: result.content
            .flatMap((block) => (block.type === 'text' ? [block.text] : []))
            .join('\n'),
          isError: result.isError,
          result,
        });
        break;
      }
      case 'message.agent':
        messages.push({
          role: 'assistant',
          content: typeof data.content === 'string' ? data.content : '',
        });
        break;
      default:
        // session.created, agent.error, session.ended and unknown types carry no conversation.
        break;
    }
  }
  return messages;
}
