import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Agent, AgentEvent, AgentRunInput } from './agent.types.js';

export const ECHO_AGENT_ID = 'echo';

/**
 * The built-in default agent: answers with the user's last message, streamed word by word.
 * Each delta is a word with the whitespace after it, so the deltas concatenate to the content.
 * Deterministic, so clients and tests can rely on it.
 */
export class EchoAgent implements Agent {
  readonly id = ECHO_AGENT_ID;
  readonly name = 'Echo';
  readonly description = "Answers with the user's message, streamed word by word.";
  readonly provider = 'builtin';

  async *run(input: AgentRunInput, signal: AbortSignal): AsyncGenerator<AgentEvent> {
    const content = lastUserContent(input);
    let sent = '';
    for (const delta of splitWords(content)) {
      // One event-loop turn per word: deltas reach sockets as they come, and an abort is seen.
      await nextTurn();
      if (signal.aborted) break;
      yield { type: 'text-delta', delta };
      sent += delta;
    }
    // A consumer may abort while holding a delta: check again before claiming a full answer.
    yield signal.aborted
      ? { type: 'finish', content: sent, finishReason: 'cancelled' }
      : { type: 'finish', content, finishReason: 'stop' };
  }
}

function lastUserContent(input: AgentRunInput): string {
  for (let i = input.messages.length - 1; i >= 0; i--) {
    const message = input.messages[i];
    if (message.role === 'user') return message.content;
  }
  return '';
}

/** "  hi  there " -> ["  ", "hi  ", "there "]: a split before each word that follows whitespace. */
export function splitWords(content: string): string[] {
  return content.split(/(?<=\s)(?=\S)/).filter((part) => part.length > 0);
}
