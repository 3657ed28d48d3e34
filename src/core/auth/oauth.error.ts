/** RFC 6749 §5.2 error codes the token endpoint answers with. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  // RFC 6749 §4.1.2.1's code for an overloaded server, as token endpoints commonly answer it.
  | 'temporarily_unavailable';

/**
 * A token-endpoint refusal: status 400, 401 for a client that failed to authenticate, 429 for an
 * address locked out of a client, 503 while secret hashing is saturated.
 */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    private readonly statusOverride?: number,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
    this.name = 'OAuthError';
  }

  get status(): number {
    if (this.statusOverride !== undefined) return this.statusOverride;
    if (this.error === 'invalid_client') return 401;
    return this.error === 'temporarily_unavailable' ? 503 : 400;
  }

  toBody(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}
