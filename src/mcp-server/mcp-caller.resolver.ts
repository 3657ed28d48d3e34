import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { requestCaller } from '../core/auth/request-caller.js';
import type { Caller } from '../core/identity/caller.js';

/** The caller of an /mcp request, as JwtAuthGuard verified it. */
@Injectable()
export class McpCallerResolver {
  /** Throws InvalidTokenError (a 401) when the guard let the request through without one. */
  resolve(request: FastifyRequest): Promise<Caller> {
    // The executor's throw becomes the rejection.
    return new Promise((resolve) => resolve(requestCaller(request)));
  }
}
