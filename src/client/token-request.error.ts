/** `POST /auth/token` refused the client's credentials, or could not answer. */
export class TokenRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** The OAuth error code (`invalid_client`, `temporarily_unavailable`…). */
    readonly error?: string,
    /** From `Retry-After`, on 429 and 503. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'TokenRequestError';
  }

  /** A refusal of the credentials themselves will not change by trying again. */
  get retryable(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}
