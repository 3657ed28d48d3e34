import type { JWTPayload } from 'jose';

/** The scopes the gateway knows (DESIGN.md, Tokens and scopes). */
export const GATEWAY_SCOPES = [
  'sessions:read',
  'sessions:write',
  'agents:read',
  'tools:read',
  'tools:execute',
  'tools:approve',
  'metrics:read',
  'admin',
] as const;

/** RFC 6749 §3.3 scope-token: printable ASCII without space, `"` or `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function isScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value);
}

/** Splits a space-separated scope string; undefined when a token is not a valid scope-token. */
export function parseScopeString(value: string): string[] | undefined {
  const scopes = value.split(' ').filter((s) => s !== '');
  return scopes.every(isScopeToken) ? [...new Set(scopes)] : undefined;
}

/** Own properties only: a claim or role named `constructor` must never reach Object.prototype. */
function ownValue(object: unknown, key: string): unknown {
  if (typeof object !== 'object' || object === null || !Object.hasOwn(object, key))
    return undefined;
  return (object as Record<string, unknown>)[key];
}

function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  // Nested claims such as Keycloak's `realm_access.roles`.
  let value: unknown = payload;
  for (const part of path.split('.')) value = ownValue(value, part);
  return value;
}

function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/[\s,]+/).filter((s) => s !== '');
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string');
  return [];
}

export interface ScopeClaimOptions {
  /** `scope` (space-separated), `scp` (array or string), or a roles claim (dotted path allowed). */
  scopeClaim: string;
  /** Role -> scopes, used when scopeClaim holds roles rather than scopes. */
  roleScopes: Record<string, string[]>;
}

/** Reads the caller's scopes from a verified payload, as the configuration says to. */
export function scopesFromClaims(payload: JWTPayload, options: ScopeClaimOptions): Set<string> {
  const values = stringsOf(claimAt(payload, options.scopeClaim));
  if (options.scopeClaim === 'scope' || options.scopeClaim === 'scp') {
    return new Set(values.filter(isScopeToken));
  }
  const scopes = new Set<string>();
  for (const role of values) {
    const mapped = ownValue(options.roleScopes, role);
    if (!Array.isArray(mapped)) continue;
    for (const scope of mapped) if (typeof scope === 'string') scopes.add(scope);
  }
  return scopes;
}
