import { describe, expect, it } from 'vitest';
import { ChatCompletionValidator, paramOf } from './chat-completion.validator.js';
import { OpenAiError } from './openai-error.js';

const validator = new ChatCompletionValidator();

function refusal(body: unknown): OpenAiError {
  try {
    validator.parse(body);
  } catch (error) {
    if (error instanceof OpenAiError) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('ChatCompletionValidator', () => {
  it('accepts a request with fields it does not read', () => {
    const body = { model: 'echo', messages: [{ role: 'user', content: 'hi' }], temperature: 1 };
    expect(validator.parse(body)).toBe(body);
  });

  it('names the param of the first problem', () => {
    expect(refusal({ messages: [] })).toMatchObject({
      status: 400,
      param: 'model',
      message: "Missing required parameter: 'model'",
    });
    expect(refusal({ model: 'echo', messages: [{ role: 'user', content: 3 }] })).toMatchObject({
      param: 'messages[0].content',
      message: "Invalid 'messages[0].content': must be a string, null or an array of content parts",
    });
    expect(refusal({ model: 'echo', messages: [{ role: 'robot' }] })).toMatchObject({
      param: 'messages[0].role',
    });
    expect(
      refusal({ model: 'echo', messages: [{ role: 'user', content: 'hi' }], stream: 'yes' }),
    ).toMatchObject({ param: 'stream', message: "Invalid 'stream': must be boolean or null" });
  });

  it('refuses a body that is not an object', () => {
    expect(refusal([1])).toMatchObject({ status: 400, code: 'invalid_body' });
    expect(refusal(undefined)).toMatchObject({ status: 400, code: 'invalid_body' });
  });

  it('spells JSON pointers the way OpenAI names params', () => {
    expect(paramOf('/messages/3/content/0/type')).toBe('messages[3].content[0].type');
    expect(paramOf('', 'model')).toBe('model');
    expect(paramOf('')).toBeNull();
  });
});
