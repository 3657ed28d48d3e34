import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Agent, AgentEvent, AgentRunInput } from './agent.types.js';

export const ECHO_AGENT_ID = 'echo';

/**
 * Words streamed between two turns of the event loop. Each delta reaches the sockets as it is
 * yielded (a WebSocket send writes at once); the turn is given up now and then only so that a
 * long answer does not hold the loop and an abort (a cancel frame, a closed socket) is read.
 */
export const ECHO_WORDS_PER_TURN = 64;

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
    const words = splitWords(content);
    for (let i = 0; i < words.length; i++) {
      // A short answer streams without waiting for the loop: a turn of the loop per word cost
      // a durable echo turn about 8% of the gateway's CPU (docs/performance.md).
      if (i > 0 && i % ECHO_WORDS_PER_TURN === 0) await nextTurn();
      if (signal.aborted) break;
      const delta = words[i];
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
