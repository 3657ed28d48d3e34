import { SetMetadata } from '@nestjs/common';

export const SESSION_RATE_LIMITED = 'openclaw:session-rate-limited';

/**
 * Puts a JSON-RPC method under the per-session limit (`rateLimit.session`), counted per value of
 * the params field `paramKey` (default `sessionKey`). `session.message` is limited by default.
 */
export const SessionRateLimited = (paramKey = 'sessionKey'): MethodDecorator =>
  SetMetadata(SESSION_RATE_LIMITED, paramKey);
