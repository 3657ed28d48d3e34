import { APICallError } from 'ai';
import type { AgentEvent } from './agent.types.js';

/** Error types of a failure on the provider's side (Anthropic's, and OpenAI's 5xx type). */
const RETRYABLE_STREAM_ERRORS = new Set([
  'overloaded_error',
  'api_error',
  'rate_limit_error',
  'timeout_error',
  'server_error',
]);

/** A provider failure as a message safe to store and show: no bodies, no keys, no URLs. */
export function toErrorEvent(error: unknown): AgentEvent {
  const cause =
    error instanceof Error && 'lastError' in error
      ? (error as { lastError: unknown }).lastError
      : error;
  if (APICallError.isInstance(cause)) {
    const status = cause.statusCode;
    const retryable = status === undefined || status >= 500 || status === 429 || status === 408;
    return {
      type: 'error',
      message:
        status === undefined
          ? 'The provider could not be reached'
          : `The provider answered HTTP ${status}`,
      retryable,
    };
  }
  const streamed = streamedProviderError(cause);
  if (streamed !== undefined) {
    return { type: 'error', message: 'The provider failed while answering', ...streamed };
  }
  if (cause instanceof TypeError && /fetch|network|socket/i.test(cause.message)) {
    return { type: 'error', message: 'The provider could not be reached', retryable: true };
  }
  return { type: 'error', message: 'The provider sent a malformed response', retryable: false };
}

/**
 * An error the provider sent inside a stream that had already begun. The SDKs pass it on as a
 * plain object, not an APICallError: Anthropic's `error` event as `{ type, message }`, OpenAI's
 * `error` / `response.failed` events as `{ message, statusCode, isRetryable, … }`.
 */
function streamedProviderError(value: unknown): { retryable: boolean } | undefined {
  if (typeof value !== 'object' || value === null || value instanceof Error) return undefined;
  const error = value as { type?: unknown; message?: unknown; isRetryable?: unknown };
  if (typeof error.message !== 'string') return undefined;
  if (typeof error.isRetryable === 'boolean') return { retryable: error.isRetryable };
  if (typeof error.type === 'string') return { retryable: RETRYABLE_STREAM_ERRORS.has(error.type) };
  return undefined;
}
