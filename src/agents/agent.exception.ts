import { GatewayErrorCode } from '../core/errors/gateway-error-code.js';
import { GatewayException } from '../core/errors/gateway.exception.js';

export class AgentNotFoundException extends GatewayException {
  constructor(agentId: string) {
    super(GatewayErrorCode.NOT_FOUND, `Agent "${agentId}" not found`, { agentId });
  }
}

/** An agent that failed or is unavailable; `retryable` says whether trying again may help. */
export class AgentFailedException extends GatewayException {
  constructor(agentId: string, message: string, retryable: boolean) {
    super(GatewayErrorCode.AGENT_FAILED, message, { agentId, retryable });
  }
}
