import { GatewayErrorCode } from './gateway-error-code.js';

/**
 * The base of every domain exception. Services throw a subclass (SessionNotFoundException…)
 * and never think about transports; the message and data are safe to show to the caller.
 */
export class GatewayException extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
