/** OpenAI's error `type`s that this front answers with. */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'server_error';

/** The body of every error on /v1, as OpenAI's clients parse it. */
export interface OpenAiErrorBody {
  error: {
    message: string;
    type: OpenAiErrorType;
    code: string | null;
    param: string | null;
  };
}

/**
 * An error as /v1 answers it: status, OpenAI's body fields, and the headers that go with it
 * (`Retry-After`; `x-should-retry`, which OpenAI's SDKs obey before their own retry rules).
 */
export class OpenAiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: OpenAiErrorType,
    readonly code: string | null,
    readonly param: string | null = null,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'OpenAiError';
  }

  static invalidRequest(message: string, code: string, param: string | null = null): OpenAiError {
    return new OpenAiError(400, message, 'invalid_request_error', code, param, NO_RETRY);
  }

  static tooLarge(message: string, param: string | null = null): OpenAiError {
    return new OpenAiError(
      413,
      message,
      'invalid_request_error',
      'request_too_large',
      param,
      NO_RETRY,
    );
  }

  toBody(): OpenAiErrorBody {
    return {
      error: { message: this.message, type: this.type, code: this.code, param: this.param },
    };
  }
}

/** Tells OpenAI's SDKs not to retry a refusal that a retry cannot change. */
export const NO_RETRY = { 'x-should-retry': 'false' } as const;
