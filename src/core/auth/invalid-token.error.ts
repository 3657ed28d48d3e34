/** Why a credential was refused; the message is safe to show to the caller. */
export type InvalidTokenReason = 'missing' | 'invalid' | 'expired';

/** Thrown by the access-token verifier; every transport turns it into its own 401 / -32001. */
export class InvalidTokenError extends Error {
  constructor(
    readonly reason: InvalidTokenReason,
    message: string,
    /** What actually failed, for the log only (never sent to the client). */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'InvalidTokenError';
  }

  static missing(): InvalidTokenError {
    return new InvalidTokenError('missing', 'Missing bearer token');
  }

  static invalid(detail: string): InvalidTokenError {
    return new InvalidTokenError('invalid', 'Invalid token', detail);
  }

  static expired(): InvalidTokenError {
    return new InvalidTokenError('expired', 'Token expired', 'exp is in the past');
  }
}

const REALM = 'openclaw-gateway';

/**
 * The WWW-Authenticate challenge (RFC 6750 §3): a request with no credential gets no error code,
 * one with a bad credential gets `error="invalid_token"`.
 */
export function bearerChallenge(error: InvalidTokenError): string {
  if (error.reason === 'missing') return `Bearer realm="${REALM}"`;
  return `Bearer realm="${REALM}", error="invalid_token", error_description="${error.message}"`;
}
