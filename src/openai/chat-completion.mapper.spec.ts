import { describe, expect, it } from 'vitest';
import type { AgentResponse } from '../sessions/session-api.types.js';
import {
  ChatChunkBuilder,
  toChatCompletion,
  toOpenAiFinishReason,
  toOpenAiUsage,
} from './chat-completion.mapper.js';

const response = (fields: Partial<AgentResponse> = {}): AgentResponse => ({
  sessionKey: 'ses_1',
  messageId: 'msg_1',
  seq: 3,
  content: 'hello',
  toolCalls: [{ toolCallId: 'c1', name: 'echo', arguments: {} }],
  finishReason: 'stop',
  usage: { inputTokens: 7, outputTokens: 2 },
  ...fields,
});

describe('chat completion mapping', () => {
  it('maps an answer to a chat.completion, server-side tool calls left out', () => {
    expect(toChatCompletion(response(), 'echo', 1700000000)).toEqual({
      id: 'chatcmpl-msg_1',
      object: 'chat.completion',
      created: 1700000000,
      model: 'echo',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'hello', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 },
      openclaw: { session_key: 'ses_1', message_id: 'msg_1', seq: 3, finish_reason: 'stop' },
    });
  });

  it('reports every incomplete answer as length, and usage the agent did not report as 0', () => {
    expect(toOpenAiFinishReason('stop')).toBe('stop');
    for (const reason of ['length', 'tool_calls', 'cancelled', 'error'] as const) {
      expect(toOpenAiFinishReason(reason)).toBe('length');
    }
    expect(toOpenAiUsage(undefined)).toEqual({
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
    });
    expect(toOpenAiUsage({ inputTokens: 1, outputTokens: 2, totalTokens: 5 }).total_tokens).toBe(5);
  });

  it('builds chunks that share id, model and time; usage in a chunk without choices', () => {
    const chunks = new ChatChunkBuilder('chatcmpl-msg_1', 'echo', 1);
    expect(chunks.role().choices[0]).toMatchObject({
      delta: { role: 'assistant', content: '' },
      finish_reason: null,
    });
    expect(chunks.content('he').choices[0].delta).toEqual({ content: 'he' });
    const last = chunks.finish(response({ finishReason: 'cancelled' }), true);
    expect(last.choices[0]).toMatchObject({ delta: {}, finish_reason: 'length' });
    expect(last.usage).toBeNull();
    expect(last.openclaw?.finish_reason).toBe('cancelled');
    expect(chunks.usage(response())).toMatchObject({
      id: 'chatcmpl-msg_1',
      object: 'chat.completion.chunk',
      choices: [],
      usage: { total_tokens: 9 },
    });
  });
});
