import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

// An incoming X-Request-Id is kept only when it is short and plain, so logs cannot be forged.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Chooses the id of a request: a safe incoming X-Request-Id or a new UUID. */
export function newRequestId(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && SAFE_ID.test(incoming) ? incoming : randomUUID();
}

/** The id pino-http gave the request (it stores it on the raw request). */
export function requestCorrelationId(request: { raw: IncomingMessage; id?: string }): string {
  return (request.raw as IncomingMessage & { id?: string }).id ?? request.id ?? randomUUID();
}

/** Longest JSON-RPC id copied as it is into a correlation id (and so into every log line). */
export const MAX_PLAIN_RPC_ID_LENGTH = 64;

/**
 * The correlation id of one call: the request's id and the call's JSON-RPC id. A long id is
 * replaced by a short sha256 prefix, so a client cannot make each log line as long as its id.
 */
export function callCorrelationId(requestId: string, rpcId: string | number | null): string {
  const text = String(rpcId);
  const shown =
    text.length <= MAX_PLAIN_RPC_ID_LENGTH
      ? text
      : `sha256-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  return `${requestId}:${shown}`;
}
