/** The session does not exist (or the store was asked about a key it never issued). */
export class SessionNotFoundError extends Error {
  constructor(readonly sessionKey: string) {
    super(`session not found: ${sessionKey}`);
    this.name = 'SessionNotFoundError';
  }
}

/** An append that required an active session found it ended. */
export class SessionEndedError extends Error {
  constructor(readonly sessionKey: string) {
    super(`session has ended: ${sessionKey}`);
    this.name = 'SessionEndedError';
  }
}

/** An event's idempotency key is already used in the session (or twice in one append). */
export class IdempotencyKeyConflictError extends Error {
  constructor(
    readonly sessionKey: string,
    readonly idempotencyKey: string,
  ) {
    super(`idempotency key already used in session ${sessionKey}`);
    this.name = 'IdempotencyKeyConflictError';
  }
}

/**
 * An append fenced by a turn lease found the lease taken over by another instance (it expired,
 * say, while this one was stalled): the turn no longer owns the session and may not write.
 */
export class LeaseLostError extends Error {
  constructor(readonly sessionKey: string) {
    super(`turn lease lost: ${sessionKey}`);
    this.name = 'LeaseLostError';
  }
}
