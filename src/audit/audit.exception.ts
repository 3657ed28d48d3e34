import { GatewayErrorCode } from '../core/errors/gateway-error-code.js';
import { GatewayException } from '../core/errors/gateway.exception.js';

/** `audit.verify` of a session that does not exist (-32004). */
export class AuditSessionNotFoundException extends GatewayException {
  constructor(sessionKey: string) {
    super(GatewayErrorCode.NOT_FOUND, 'Session not found', { sessionKey });
  }
}
