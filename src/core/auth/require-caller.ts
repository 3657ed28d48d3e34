import { GatewayErrorCode } from '../errors/gateway-error-code.js';
import { GatewayException } from '../errors/gateway.exception.js';
import type { Caller } from '../identity/caller.js';

/**
 * The caller of a scoped call. JwtAuthGuard always sets it before a handler runs; its absence
 * means a wiring mistake, and the call is refused rather than run as somebody.
 */
export function requireCaller(caller: Caller | undefined): Caller {
  if (!caller) throw new GatewayException(GatewayErrorCode.UNAUTHENTICATED, 'Not authenticated');
  return caller;
}
