import { OAuthError } from './oauth.error.js';

/** The parameters of a token request: own properties only, nothing inherited. */
export type TokenParams = Readonly<Record<string, string | undefined>>;

// Every check here runs before any store key, database query or scrypt: an oversize or
// malformed request costs the gateway its parsing and nothing more.
/** More fields than any grant needs (grant_type, client_id, client_secret, scope, refresh_token…). */
export const MAX_TOKEN_FIELDS = 16;
export const MAX_FIELD_NAME_LENGTH = 64;
/** Longest field value; a scope list is the longest legitimate one. */
export const MAX_FIELD_LENGTH = 4096;
/** RFC 6749 §2.2 allows any VSCHAR; ids issued here are `ocl_` and 16 base64url characters. */
const CLIENT_ID = /^[\x20-\x7E]{1,64}$/;
/** Secrets issued here are 47 characters; a longer one cannot match and would only cost scrypt. */
export const MAX_CLIENT_SECRET_LENGTH = 256;

/** A form or JSON object of single strings, within the caps above. */
export function parseTokenParams(body: unknown): TokenParams {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OAuthError('invalid_request', 'the body must be a form or a JSON object');
  }
  const entries = Object.entries(body as Record<string, unknown>);
  if (entries.length > MAX_TOKEN_FIELDS) {
    throw new OAuthError('invalid_request', `at most ${MAX_TOKEN_FIELDS} parameters are accepted`);
  }
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of entries) {
    if (key.length > MAX_FIELD_NAME_LENGTH) {
      throw new OAuthError('invalid_request', 'a parameter name is too long');
    }
    // A repeated parameter is refused (RFC 6749 §3.2), as is anything but a string.
    if (typeof value !== 'string') {
      throw new OAuthError('invalid_request', `${key} must be a single string`);
    }
    if (value.length > MAX_FIELD_LENGTH) {
      throw new OAuthError(
        'invalid_request',
        `${key} is longer than ${MAX_FIELD_LENGTH} characters`,
      );
    }
    params[key] = value;
  }
  return params;
}

export interface ClientCredentials {
  clientId: string;
  secret: string;
}

/**
 * client_secret_basic or client_secret_post, exactly one of them. A credential that cannot belong
 * to any client (the wrong shape, too long) is refused here, as every failed authentication is.
 */
export function clientCredentials(
  authorization: string | undefined,
  params: TokenParams,
): ClientCredentials {
  const basic = basicCredentials(authorization);
  const inBody = params.client_id !== undefined || params.client_secret !== undefined;
  if (basic && inBody) {
    throw new OAuthError('invalid_request', 'use one client authentication method, not two');
  }
  const clientId = basic?.clientId ?? params.client_id;
  const secret = basic?.secret ?? params.client_secret;
  if (
    !clientId ||
    !secret ||
    !CLIENT_ID.test(clientId) ||
    secret.length > MAX_CLIENT_SECRET_LENGTH
  ) {
    throw clientAuthenticationFailed();
  }
  return { clientId, secret };
}

export function clientAuthenticationFailed(): OAuthError {
  return new OAuthError('invalid_client', 'Client authentication failed');
}

/** client_secret_basic: both parts are form-urlencoded before base64 (RFC 6749 §2.3.1). */
function basicCredentials(header: string | undefined): ClientCredentials | undefined {
  const match = header ? /^Basic +([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) {
    if (header !== undefined) throw clientAuthenticationFailed();
    return undefined;
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw clientAuthenticationFailed();
  try {
    const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));
    return { clientId: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
  } catch {
    throw clientAuthenticationFailed();
  }
}
