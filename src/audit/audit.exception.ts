import { GatewayErrorCode } from '../core/errors/gateway-error-code.js';
import { GatewayException } from '../core/errors/gateway.exception.js';

/** `audit.verify` of a session that does not exist (-32004). */
export class AuditSessionNotFoundException extends GatewayException {
  constructor(sessionKey: string) {
    super(GatewayErrorCode.NOT_FOUND, 'Session not found', { sessionKey });
  }
}

/** `audit.search` with a `since`/`until` that is shaped like a time but is none (-32602). */
export class AuditTimeInvalidException extends GatewayException {
  constructor(param: string, value: string) {
    super(GatewayErrorCode.INVALID_INPUT, `${param} is not a valid time`, {
      violations: [{ path: param, message: `not a valid time: ${value.slice(0, 40)}` }],
    });
  }
}
