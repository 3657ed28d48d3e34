import type { ModelMessage } from 'ai';
import type { ConversationMessage } from './agent.types.js';
import type { ModelToolNames } from './model-tool-names.js';

/**
 * Drops the oldest turns (a user message and what followed it) until the conversation fits
 * `budget` characters; the latest turn is always kept, and the system prompt is not counted.
 */
export function trimToBudget(
  messages: ConversationMessage[],
  budget: number | undefined,
): ConversationMessage[] {
  if (budget === undefined) return messages;
  const size = (message: ConversationMessage): number =>
    message.content.length +
    (message.role === 'assistant' && message.toolCalls
      ? JSON.stringify(message.toolCalls).length
      : 0);
  let total = messages.reduce((sum, message) => sum + size(message), 0);
  let start = 0;
  while (total > budget) {
    let next = start + 1;
    while (next < messages.length && messages[next].role !== 'user') next++;
    if (next >= messages.length) break;
    for (let i = start; i < next; i++) total -= size(messages[i]);
    start = next;
  }
  return messages.slice(start);
}

/** The stored conversation as AI SDK messages, tool names as the model knows them. */
export function toModelMessages(
  messages: ConversationMessage[],
  names: ModelToolNames,
): ModelMessage[] {
  // A tool message whose call was trimmed away would be refused by providers.
  const calls = new Set<string>();
  const out: ModelMessage[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'user':
        out.push({ role: 'user', content: message.content });
        break;
      case 'assistant':
        if (!message.toolCalls?.length) {
          out.push({ role: 'assistant', content: message.content });
          break;
        }
        for (const call of message.toolCalls) calls.add(call.toolCallId);
        out.push({
          role: 'assistant',
          content: [
            ...(message.content ? [{ type: 'text' as const, text: message.content }] : []),
            ...message.toolCalls.map((call) => ({
              type: 'tool-call' as const,
              toolCallId: call.toolCallId,
              toolName: names.toModel(call.name),
              input: call.arguments,
            })),
          ],
        });
        break;
      case 'tool':
        if (!calls.has(message.toolCallId)) break;
        out.push({
          role: 'tool',
          content: [
            {
              type: 'tool-result',
              toolCallId: message.toolCallId,
              toolName: names.toModel(message.name),
              output: message.isError
                ? { type: 'error-text', value: message.content || 'The tool failed' }
                : { type: 'text', value: message.content },
            },
          ],
        });
        break;
    }
  }
  return out;
}
