import { GatewayErrorCode } from '../errors/gateway-error-code.js';
import { GatewayException } from '../errors/gateway.exception.js';

/** A call over a limit: -32005 with `data.retryAfterMs` (and the limit's name). */
export class RateLimitedException extends GatewayException {
  constructor(
    readonly retryAfterMs: number,
    limit: string,
    reason?: 'store_unavailable',
  ) {
    super(
      GatewayErrorCode.RATE_LIMITED,
      reason ? 'Rate limit unavailable, retry later' : 'Rate limit exceeded',
      reason ? { retryAfterMs, limit, reason } : { retryAfterMs, limit },
    );
  }
}
