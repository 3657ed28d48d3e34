import { HttpException } from '@nestjs/common';
import { assertUnreachable } from '../core/errors/assert-unreachable.js';
import { GatewayErrorCode } from '../core/errors/gateway-error-code.js';
import { GatewayException } from '../core/errors/gateway.exception.js';
import { isStoreUnavailable } from '../core/errors/store-unavailable.js';
import { InvalidTokenError } from '../core/auth/invalid-token.error.js';
import { NO_RETRY, OpenAiError } from './openai-error.js';

export interface MappedOpenAiError {
  error: OpenAiError;
  /** Not an error we meant to send: log it with its stack. */
  unexpected: boolean;
}

const RETRY = { 'x-should-retry': 'true' } as const;

/**
 * The one place where anything thrown on /v1 (by the global guards, ours, the handler or the
 * services below it) becomes an error in OpenAI's shape. Domain codes go through an exhaustive
 * switch; unexpected errors become a 500 naming the correlation id, never their own message.
 */
export function mapOpenAiError(thrown: unknown, correlationId: string): MappedOpenAiError {
  if (thrown instanceof OpenAiError) return { error: thrown, unexpected: false };
  if (thrown instanceof GatewayException) return { error: fromDomain(thrown), unexpected: false };
  if (thrown instanceof HttpException) {
    return { error: fromHttpStatus(thrown.getStatus(), httpMessage(thrown)), unexpected: false };
  }
  if (thrown instanceof InvalidTokenError) {
    return { error: fromHttpStatus(401, thrown.message), unexpected: false };
  }
  if (isStoreUnavailable(thrown)) return { error: storeUnavailable(), unexpected: false };
  return {
    error: new OpenAiError(
      500,
      `Internal error (correlation id ${correlationId})`,
      'server_error',
      'internal_error',
      null,
      RETRY,
    ),
    unexpected: true,
  };
}

/**
 * An error the gateway answered in another shape before routing reached /v1's handlers (body
 * over `gateway.bodyLimit`, malformed JSON, draining): the same status, OpenAI's body.
 */
export function fromHttpStatus(status: number, message: string): OpenAiError {
  switch (status) {
    case 401:
      return new OpenAiError(
        401,
        message,
        'authentication_error',
        'invalid_api_key',
        null,
        NO_RETRY,
      );
    case 403:
      return new OpenAiError(
        403,
        message,
        'permission_error',
        'insufficient_scope',
        null,
        NO_RETRY,
      );
    case 404:
      return new OpenAiError(404, message, 'invalid_request_error', 'not_found', null, NO_RETRY);
    case 413:
      return OpenAiError.tooLarge(message);
    case 415:
      return new OpenAiError(
        415,
        message,
        'invalid_request_error',
        'unsupported_media_type',
        null,
        NO_RETRY,
      );
    case 429:
      return new OpenAiError(429, message, 'rate_limit_error', 'rate_limit_exceeded');
    case 503:
      return new OpenAiError(503, message, 'server_error', 'service_unavailable', null, RETRY);
    default:
      return status >= 500
        ? new OpenAiError(status, message, 'server_error', 'server_error')
        : new OpenAiError(
            status,
            message,
            'invalid_request_error',
            'invalid_request',
            null,
            NO_RETRY,
          );
  }
}

function fromDomain(exception: GatewayException): OpenAiError {
  const data = exception.data ?? {};
  const message = exception.message;
  switch (exception.code) {
    case GatewayErrorCode.INVALID_INPUT:
      if (data.reason === 'too-large') return OpenAiError.tooLarge(message, 'messages');
      return OpenAiError.invalidRequest(violationMessage(data) ?? message, 'invalid_value');
    case GatewayErrorCode.UNAUTHENTICATED:
      return fromHttpStatus(401, message);
    case GatewayErrorCode.FORBIDDEN:
      return fromHttpStatus(403, message);
    case GatewayErrorCode.NOT_FOUND:
      if (typeof data.agentId === 'string') {
        return new OpenAiError(
          404,
          `The model "${data.agentId}" does not exist (a model is an agent id: GET /v1/models lists them)`,
          'invalid_request_error',
          'model_not_found',
          'model',
          NO_RETRY,
        );
      }
      if (typeof data.sessionKey === 'string') {
        return new OpenAiError(
          404,
          message,
          'invalid_request_error',
          'session_not_found',
          null,
          NO_RETRY,
        );
      }
      return fromHttpStatus(404, message);
    case GatewayErrorCode.RATE_LIMITED:
      return rateLimited(message, data);
    case GatewayErrorCode.CONFLICT:
      // A full turn queue empties; an ended session stays ended.
      return data.reason === 'busy'
        ? new OpenAiError(409, message, 'invalid_request_error', 'session_busy', null, RETRY)
        : new OpenAiError(
            409,
            message,
            'invalid_request_error',
            data.reason === 'ended' ? 'session_ended' : 'conflict',
            null,
            NO_RETRY,
          );
    case GatewayErrorCode.AGENT_FAILED:
      // The agent's provider failed: 502 (a bad gateway upstream), retryable when it said so.
      return data.retryable === true
        ? new OpenAiError(502, message, 'server_error', 'agent_unavailable', null, RETRY)
        : new OpenAiError(500, message, 'server_error', 'agent_failed', null, NO_RETRY);
    case GatewayErrorCode.TOOL_FAILED:
      return new OpenAiError(500, message, 'server_error', 'tool_failed', null, NO_RETRY);
    case GatewayErrorCode.REQUEST_CANCELLED:
      // nginx's "client closed request": only a client that already left is told this.
      return new OpenAiError(
        499,
        message,
        'invalid_request_error',
        'request_cancelled',
        null,
        NO_RETRY,
      );
    case GatewayErrorCode.BUDGET_EXCEEDED:
      // OpenAI's own answer to a spent quota: retrying before the window resets is pointless.
      return new OpenAiError(
        429,
        message,
        'insufficient_quota',
        'insufficient_quota',
        null,
        budgetRetry(data),
      );
    default:
      return assertUnreachable(exception.code);
  }
}

function rateLimited(message: string, data: Record<string, unknown>): OpenAiError {
  const ms =
    typeof data.retryAfterMs === 'number' && data.retryAfterMs > 0 ? data.retryAfterMs : 1000;
  const retryAfter = String(Math.ceil(ms / 1000));
  if (data.reason === 'store_unavailable') return storeUnavailable(retryAfter);
  const limit = typeof data.limit === 'string' ? ` (limit "${data.limit}")` : '';
  return new OpenAiError(
    429,
    `${message}${limit}`,
    'rate_limit_error',
    'rate_limit_exceeded',
    null,
    {
      'retry-after': retryAfter,
      'retry-after-ms': String(Math.ceil(ms)),
    },
  );
}

/**
 * A spent budget: SDKs must not retry it at once (their backoff is seconds, a window hours);
 * one with a window says when it resets.
 */
function budgetRetry(data: Record<string, unknown>): Record<string, string> {
  if (typeof data.resetAt !== 'string') return { ...NO_RETRY };
  const seconds = Math.max(1, Math.ceil((Date.parse(data.resetAt) - Date.now()) / 1000));
  return { ...NO_RETRY, 'retry-after': String(seconds) };
}

function storeUnavailable(retryAfter = '1'): OpenAiError {
  return new OpenAiError(
    503,
    'Service unavailable: a store the gateway needs is unreachable; retry',
    'server_error',
    'store_unavailable',
    null,
    { ...RETRY, 'retry-after': retryAfter },
  );
}

/** The first violation of a domain INVALID_INPUT (`data.violations`), as one sentence. */
function violationMessage(data: Record<string, unknown>): string | undefined {
  const violations = data.violations;
  if (!Array.isArray(violations) || violations.length === 0) return undefined;
  const first = violations[0] as { message?: unknown };
  return typeof first.message === 'string' ? first.message : undefined;
}

/** An HttpException's message as Nest guards put it (a string, or `{ message }`), scope named. */
function httpMessage(exception: HttpException): string {
  const body = exception.getResponse();
  if (typeof body === 'string') return body;
  const { message, requiredScope } = body as { message?: unknown; requiredScope?: unknown };
  const text = typeof message === 'string' ? message : exception.message;
  return typeof requiredScope === 'string'
    ? `${text}: this call needs the scope "${requiredScope}"`
    : text;
}
