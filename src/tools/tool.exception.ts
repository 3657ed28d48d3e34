import { GatewayErrorCode } from '../core/errors/gateway-error-code.js';
import { GatewayException } from '../core/errors/gateway.exception.js';

export interface ToolArgumentViolation {
  /** Dotted path inside the tool's arguments; '' for the arguments object itself. */
  path: string;
  message: string;
}

export class ToolNotFoundException extends GatewayException {
  constructor(name: string) {
    super(GatewayErrorCode.NOT_FOUND, `Tool "${name}" not found`, { tool: name });
  }
}

export class ToolInvalidArgumentsException extends GatewayException {
  constructor(name: string, violations: ToolArgumentViolation[]) {
    super(GatewayErrorCode.INVALID_INPUT, `Invalid arguments for tool "${name}"`, {
      tool: name,
      violations,
    });
  }
}

export type ToolFailureReason = 'timeout' | 'cancelled' | 'error' | 'invalid-result' | 'too-large';

/** A tool that threw, timed out or answered garbage; the message is safe to show. */
export class ToolFailedException extends GatewayException {
  constructor(name: string, message: string, reason: ToolFailureReason) {
    super(GatewayErrorCode.TOOL_FAILED, message, { tool: name, reason });
  }
}

/** `tools.execute { sessionKey }` on a gateway without the sessions module: no session can exist. */
export class SessionRecordingUnavailableException extends GatewayException {
  constructor(sessionKey: string) {
    super(
      GatewayErrorCode.NOT_FOUND,
      `Session "${sessionKey}" not found: this gateway has no sessions module to record tool calls in`,
      { sessionKey },
    );
  }
}
