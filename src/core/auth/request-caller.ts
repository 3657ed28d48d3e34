import type { FastifyRequest } from 'fastify';
import type { Caller } from '../identity/caller.js';
import { REQUEST_CALLER } from '../rpc/rpc-call-context.js';
import { InvalidTokenError } from './invalid-token.error.js';

/**
 * The caller JwtAuthGuard verified for an HTTP request to a route that is not @Public (the host's
 * authenticator or the bearer token, as the guard decided). Its absence means the route was not
 * guarded, a wiring mistake: refused as unauthenticated rather than served as somebody.
 */
export function requestCaller(request: FastifyRequest): Caller {
  const caller = (request as FastifyRequest & { [REQUEST_CALLER]?: Caller })[REQUEST_CALLER];
  if (!caller) throw InvalidTokenError.missing();
  return caller;
}
