/** Who makes a call: the verified token's subject and scopes. Services take it explicitly. */
export interface Caller {
  subject: string;
  scopes: ReadonlySet<string>;
  /** The OAuth client the token was issued to, when it was. */
  clientId?: string;
  /** Token expiry (epoch ms), when the token has one. */
  expiresAt?: number;
}

export const ADMIN_SCOPE = 'admin';

/** Reads /status and /metrics without the rest of `admin` (a monitoring system's token). */
export const METRICS_READ_SCOPE = 'metrics:read';

export function hasScope(caller: Caller | undefined, scope: string): boolean {
  return !!caller && (caller.scopes.has(scope) || caller.scopes.has(ADMIN_SCOPE));
}
