import { describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from './chat-completion.request.js';
import { toChatTurnInput } from './chat-turn.input.js';
import { OpenAiError } from './openai-error.js';

const NEW = { continuing: false, maxContentLength: 100 };
const CONTINUING = { continuing: true, maxContentLength: 100 };

const request = (fields: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
  model: 'echo',
  messages: [{ role: 'user', content: 'hi' }],
  ...fields,
});

function refusal(fn: () => unknown): OpenAiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof OpenAiError) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('toChatTurnInput', () => {
  it("takes the last user message as the turn's content and counts the others as ignored", () => {
    const input = toChatTurnInput(
      request({
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'developer', content: 'really' },
          { role: 'user', content: 'hello' },
        ],
        stream: true,
        stream_options: { include_usage: true },
      }),
      NEW,
    );
    expect(input).toEqual({
      content: 'hello',
      ignoredMessages: 2,
      stream: true,
      includeUsage: true,
    });
  });

  it('joins text parts with newlines and refuses any other part', () => {
    const parts = request({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'one' },
            { type: 'text', text: 'two' },
          ],
        },
      ],
    });
    expect(toChatTurnInput(parts, NEW).content).toBe('one\ntwo');
    const image = request({
      messages: [{ role: 'user', content: [{ type: 'image_url' }] }],
    });
    expect(refusal(() => toChatTurnInput(image, NEW))).toMatchObject({
      status: 400,
      code: 'unsupported_content',
      param: 'messages[0].content[0].type',
    });
  });

  it('ignores earlier messages when continuing a session, and refuses them for a new one', () => {
    const conversation = request({
      messages: [
        { role: 'user', content: 'before' },
        { role: 'assistant', content: 'answer' },
        { role: 'user', content: 'now' },
      ],
    });
    expect(toChatTurnInput(conversation, CONTINUING)).toMatchObject({
      content: 'now',
      ignoredMessages: 2,
    });
    expect(refusal(() => toChatTurnInput(conversation, NEW))).toMatchObject({
      status: 400,
      code: 'conversation_not_supported',
      param: 'messages[0]',
    });
  });

  it("refuses a last message that is not the user's, and an empty one", () => {
    const assistantLast = request({ messages: [{ role: 'assistant', content: 'x' }] });
    expect(refusal(() => toChatTurnInput(assistantLast, CONTINUING))).toMatchObject({
      param: 'messages[0].role',
    });
    const empty = request({ messages: [{ role: 'user', content: '  ' }] });
    expect(refusal(() => toChatTurnInput(empty, NEW))).toMatchObject({
      param: 'messages[0].content',
    });
  });

  it('answers 413 for content over the limit', () => {
    const long = request({ messages: [{ role: 'user', content: 'x'.repeat(101) }] });
    expect(refusal(() => toChatTurnInput(long, NEW))).toMatchObject({
      status: 413,
      code: 'request_too_large',
    });
  });

  it('refuses client tools, several choices, logprobs and structured output; accepts empty ones', () => {
    const refused: Array<[Partial<ChatCompletionRequest>, string]> = [
      [{ tools: [{ type: 'function' }] }, 'tools'],
      [{ functions: [{ name: 'f' }] }, 'functions'],
      [{ tool_choice: 'required' }, 'tool_choice'],
      [{ n: 2 }, 'n'],
      [{ logprobs: true }, 'logprobs'],
      [{ response_format: { type: 'json_object' } }, 'response_format'],
    ];
    for (const [fields, param] of refused) {
      expect(refusal(() => toChatTurnInput(request(fields), NEW))).toMatchObject({
        status: 400,
        code: 'unsupported_parameter',
        param,
      });
    }
    const harmless = request({
      tools: [],
      tool_choice: 'auto',
      n: 1,
      logprobs: false,
      response_format: { type: 'text' },
      temperature: 0.2,
    });
    expect(toChatTurnInput(harmless, NEW).content).toBe('hi');
  });
});
