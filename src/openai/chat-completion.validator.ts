import { Injectable } from '@nestjs/common';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import {
  CHAT_COMPLETION_REQUEST_SCHEMA,
  type ChatCompletionRequest,
} from './chat-completion.request.js';
import { OpenAiError } from './openai-error.js';

/**
 * Checks a chat completions body against its JSON Schema and answers the first problem as
 * OpenAI does: 400 `invalid_request_error` naming the `param`. Compiled once, on the first
 * request: compiling it cost about 30 ms of every boot, including those that never serve /v1.
 */
@Injectable()
export class ChatCompletionValidator {
  private compiled?: ValidateFunction<ChatCompletionRequest>;

  private get validate(): ValidateFunction<ChatCompletionRequest> {
    return (this.compiled ??= new Ajv({
      allErrors: false,
      strict: true,
    }).compile<ChatCompletionRequest>(CHAT_COMPLETION_REQUEST_SCHEMA));
  }

  parse(body: unknown): ChatCompletionRequest {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw OpenAiError.invalidRequest(
        'The request body must be a JSON object (Content-Type: application/json)',
        'invalid_body',
      );
    }
    if (this.validate(body)) return body;
    const error = describe(this.validate.errors ?? []);
    throw OpenAiError.invalidRequest(error.message, 'invalid_value', error.param);
  }
}

/** `/messages/0/content` → `messages[0].content`. */
export function paramOf(instancePath: string, missing?: string): string | null {
  const parts = instancePath.split('/').slice(1);
  if (missing !== undefined) parts.push(missing);
  if (parts.length === 0) return null;
  return parts.reduce(
    (path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part),
    '',
  );
}

function describe(errors: readonly ErrorObject[]): { message: string; param: string | null } {
  const first = errors[0];
  if (!first) return { message: 'Invalid request body', param: null };
  if (first.keyword === 'required') {
    const missing = String((first.params as { missingProperty: string }).missingProperty);
    const param = paramOf(first.instancePath, missing);
    return { message: `Missing required parameter: '${param}'`, param };
  }
  const param = paramOf(first.instancePath);
  const name = param ?? 'body';
  // In an anyOf (a nullable field, a message's content), the first branch says what was expected.
  const anyOf = errors.find((e) => e.keyword === 'anyOf' && e.instancePath === first.instancePath);
  if (anyOf && /\/content$/.test(first.instancePath)) {
    return {
      message: `Invalid '${name}': must be a string, null or an array of content parts`,
      param,
    };
  }
  const suffix = anyOf ? ' or null' : '';
  return { message: `Invalid '${name}': ${first.message ?? 'invalid value'}${suffix}`, param };
}
