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

export function hasScope(caller: Caller | undefined, scope: string): boolean {
  return !!caller && (caller.scopes.has(scope) || caller.scopes.has(ADMIN_SCOPE));
}
