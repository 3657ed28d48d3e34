import { describe, expect, it } from 'vitest';
import { scopesFromClaims } from './token-scopes.js';

describe('scopesFromClaims', () => {
  const none = { roleScopes: {} };

  it('reads a space-separated scope, or scp as an array or a string', () => {
    expect(scopesFromClaims({ scope: 'a:b c:d' }, { scopeClaim: 'scope', ...none })).toEqual(
      new Set(['a:b', 'c:d']),
    );
    expect(scopesFromClaims({ scp: ['a:b', 'c:d'] }, { scopeClaim: 'scp', ...none })).toEqual(
      new Set(['a:b', 'c:d']),
    );
    expect(scopesFromClaims({ scp: 'a:b' }, { scopeClaim: 'scp', ...none })).toEqual(
      new Set(['a:b']),
    );
    expect(scopesFromClaims({}, { scopeClaim: 'scope', ...none })).toEqual(new Set());
  });

  it('maps roles (also at a dotted path) through roleScopes, ignoring unknown roles', () => {
    const roleScopes = { reader: ['sessions:read'], ops: ['admin', 'tools:read'] };
    expect(
      scopesFromClaims({ roles: ['reader', 'ops', 'intern'] }, { scopeClaim: 'roles', roleScopes }),
    ).toEqual(new Set(['sessions:read', 'admin', 'tools:read']));
    expect(
      scopesFromClaims(
        { realm_access: { roles: ['reader'] } },
        { scopeClaim: 'realm_access.roles', roleScopes },
      ),
    ).toEqual(new Set(['sessions:read']));
    // A role name is never taken as a scope by itself.
    expect(scopesFromClaims({ roles: ['admin'] }, { scopeClaim: 'roles', roleScopes })).toEqual(
      new Set(),
    );
  });
});
