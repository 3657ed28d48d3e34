import { GatewayErrorCode } from '../core/errors/gateway-error-code.js';
import { GatewayException } from '../core/errors/gateway.exception.js';

/** The session does not exist, or belongs to someone else (who must not learn that it exists). */
export class SessionNotFoundException extends GatewayException {
  constructor(sessionKey: string) {
    super(GatewayErrorCode.NOT_FOUND, `Session "${sessionKey}" not found`, { sessionKey });
  }
}

export class SessionEndedException extends GatewayException {
  constructor(sessionKey: string) {
    super(GatewayErrorCode.CONFLICT, `Session "${sessionKey}" has ended`, {
      sessionKey,
      reason: 'ended',
    });
  }
}

/** More turns wait in the session than `sessions.queueSize` allows. */
export class SessionBusyException extends GatewayException {
  constructor(sessionKey: string, queueSize: number) {
    super(GatewayErrorCode.CONFLICT, `Session "${sessionKey}" is busy: its turn queue is full`, {
      sessionKey,
      reason: 'busy',
      queueSize,
    });
  }
}

/** The idempotency key was used in this session for a message with other content. */
export class IdempotencyConflictException extends GatewayException {
  constructor(sessionKey: string, idempotencyKey: string) {
    super(
      GatewayErrorCode.CONFLICT,
      'The idempotency key was already used in this session with other content',
      { sessionKey, idempotencyKey, reason: 'idempotency-key-reused' },
    );
  }
}

export class ContentTooLongException extends GatewayException {
  constructor(length: number, maxLength: number) {
    super(GatewayErrorCode.INVALID_INPUT, 'Invalid params', {
      violations: [
        {
          path: 'content',
          message: `content must be at most ${maxLength} characters (got ${length})`,
        },
      ],
    });
  }
}

/**
 * An event larger than `sessions.maxEventBytes`: refused rather than stored, so that no page of
 * the log, nor the memory of whoever reads it, grows with what one client sent.
 */
export class EventTooLargeException extends GatewayException {
  constructor(eventType: string, bytes: number, maxBytes: number) {
    super(
      GatewayErrorCode.INVALID_INPUT,
      `The ${eventType} event is too large (${bytes} bytes > ${maxBytes})`,
      { reason: 'too-large', eventType, bytes, maxBytes },
    );
  }
}

/** Another instance ran a turn of this session for longer than `sessions.turnWaitTimeout`. */
export class SessionTurnTimeoutException extends GatewayException {
  constructor(sessionKey: string, waitedMs: number) {
    super(
      GatewayErrorCode.CONFLICT,
      `Session "${sessionKey}" is busy: another gateway instance is running its turn`,
      { sessionKey, reason: 'busy', waitedMs, retryable: true },
    );
  }
}
