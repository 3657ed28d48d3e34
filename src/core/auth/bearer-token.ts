/** Longest credential accepted anywhere (Authorization value or subprotocol), checked before parsing. */
export const MAX_CREDENTIAL_LENGTH = 8 * 1024;

/** The subprotocol prefix a browser uses to send its token: `bearer.<token>` beside openclaw.v1. */
export const BEARER_SUBPROTOCOL_PREFIX = 'bearer.';

export type BearerCredential =
  { kind: 'none' } | { kind: 'malformed'; reason: string } | { kind: 'token'; token: string };

/** Reads `Authorization: Bearer <token>`. Any other scheme, or a value too long, is malformed. */
export function bearerFromAuthorization(value: string | string[] | undefined): BearerCredential {
  if (value === undefined) return { kind: 'none' };
  if (Array.isArray(value))
    return { kind: 'malformed', reason: 'more than one Authorization header' };
  if (value.length > MAX_CREDENTIAL_LENGTH) {
    return { kind: 'malformed', reason: 'Authorization header is too large' };
  }
  const match = /^Bearer +([^\s]+)\s*$/i.exec(value);
  if (!match) return { kind: 'malformed', reason: 'Authorization must use the Bearer scheme' };
  return { kind: 'token', token: match[1] };
}

/** Reads a `bearer.<token>` subprotocol from Sec-WebSocket-Protocol (browsers cannot set headers). */
export function bearerFromSubprotocols(value: string | string[] | undefined): BearerCredential {
  if (value === undefined) return { kind: 'none' };
  const joined = Array.isArray(value) ? value.join(',') : value;
  if (joined.length > MAX_CREDENTIAL_LENGTH + 64) {
    return { kind: 'malformed', reason: 'Sec-WebSocket-Protocol header is too large' };
  }
  const tokens = joined
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.toLowerCase().startsWith(BEARER_SUBPROTOCOL_PREFIX))
    .map((p) => p.slice(BEARER_SUBPROTOCOL_PREFIX.length));
  if (tokens.length === 0) return { kind: 'none' };
  if (tokens.length > 1 || tokens[0] === '') {
    return { kind: 'malformed', reason: 'exactly one bearer.<token> subprotocol is allowed' };
  }
  return { kind: 'token', token: tokens[0] };
}

/** A WebSocket upgrade's credential: the Authorization header first, else the subprotocol. */
export function bearerFromUpgrade(
  headers: Record<string, string | string[] | undefined>,
): BearerCredential {
  const fromHeader = bearerFromAuthorization(headers.authorization);
  if (fromHeader.kind !== 'none') return fromHeader;
  return bearerFromSubprotocols(headers['sec-websocket-protocol']);
}
