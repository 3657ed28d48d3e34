import { randomUUID } from 'node:crypto';
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
