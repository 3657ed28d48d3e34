import { GatewayErrorCode } from '../core/errors/gateway-error-code.js';
import { GatewayException } from '../core/errors/gateway.exception.js';

/** No pending or decided request for this call in this session (or a session the caller may not see). */
export class ToolApprovalNotFoundException extends GatewayException {
  constructor(sessionKey: string, toolCallId: string) {
    super(
      GatewayErrorCode.NOT_FOUND,
      `No approval request for tool call "${toolCallId}" in session "${sessionKey}"`,
      { sessionKey, toolCallId },
    );
  }
}

/** The call was decided already (by someone else, or by its timeout). */
export class ToolApprovalDecidedException extends GatewayException {
  constructor(sessionKey: string, toolCallId: string, reason: 'decided' | 'expired') {
    super(
      GatewayErrorCode.CONFLICT,
      reason === 'expired'
        ? `The approval request for tool call "${toolCallId}" has expired`
        : `Tool call "${toolCallId}" was already decided`,
      { sessionKey, toolCallId, reason },
    );
  }
}

/** Four eyes: a session's owner may not decide its own calls (`approvals.ownerMayApprove`). */
export class OwnToolApprovalException extends GatewayException {
  constructor(sessionKey: string, toolCallId: string) {
    super(
      GatewayErrorCode.FORBIDDEN,
      "A session's owner may not decide its own tool calls (approvals.ownerMayApprove is off)",
      { sessionKey, toolCallId, reason: 'own-session' },
    );
  }
}
