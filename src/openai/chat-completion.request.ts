/** A content part of a chat message; only text parts can become a turn's content. */
export interface ChatContentPart {
  type: string;
  text?: string;
}

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';
  content?: string | ChatContentPart[] | null;
  [key: string]: unknown;
}

/**
 * The fields of OpenAI's chat completions request that this front reads or refuses. Any other
 * field (temperature, max_tokens, seed, user…) is accepted and ignored: the agent's own
 * configuration decides how it runs.
 */
export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  n?: number | null;
  tools?: unknown[] | null;
  functions?: unknown[] | null;
  tool_choice?: unknown;
  function_call?: unknown;
  logprobs?: boolean | null;
  response_format?: { type: string } | null;
  [key: string]: unknown;
}

/** Most messages a request may carry: a conversation far longer than any turn needs. */
export const MAX_MESSAGES = 4096;
/** Longest model (agent) id, as `session.create` accepts it. */
export const MAX_MODEL_LENGTH = 128;

const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });

/** JSON Schema of the request, for ajv. Unknown fields are allowed (OpenAI adds them often). */
export const CHAT_COMPLETION_REQUEST_SCHEMA = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: MAX_MODEL_LENGTH },
    messages: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_MESSAGES,
      items: {
        type: 'object',
        required: ['role'],
        properties: {
          role: { enum: ['system', 'developer', 'user', 'assistant', 'tool', 'function'] },
          content: {
            anyOf: [
              { type: 'string' },
              { type: 'null' },
              {
                type: 'array',
                maxItems: MAX_MESSAGES,
                items: {
                  type: 'object',
                  required: ['type'],
                  properties: { type: { type: 'string' }, text: { type: 'string' } },
                },
              },
            ],
          },
        },
      },
    },
    stream: nullable({ type: 'boolean' }),
    stream_options: nullable({
      type: 'object',
      properties: { include_usage: nullable({ type: 'boolean' }) },
    }),
    n: nullable({ type: 'integer', minimum: 1, maximum: 128 }),
    tools: nullable({ type: 'array' }),
    functions: nullable({ type: 'array' }),
    logprobs: nullable({ type: 'boolean' }),
    response_format: nullable({
      type: 'object',
      required: ['type'],
      properties: { type: { type: 'string' } },
    }),
  },
} as const;
