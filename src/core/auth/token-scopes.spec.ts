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

  it('ignores role and claim names that exist only on Object.prototype', () => {
    const roleScopes = { reader: ['sessions:read'] };
    const hostile = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];
    expect(
      scopesFromClaims({ roles: [...hostile, 'reader'] }, { scopeClaim: 'roles', roleScopes }),
    ).toEqual(new Set(['sessions:read']));
    expect(
      scopesFromClaims({ roles: 'constructor toString' }, { scopeClaim: 'roles', roleScopes }),
    ).toEqual(new Set());
    // A configured claim path that names a prototype member finds nothing, rather than a function.
    for (const scopeClaim of ['constructor', 'toString', 'roles.constructor', '__proto__.x']) {
      expect(scopesFromClaims({ roles: ['reader'] }, { scopeClaim, roleScopes })).toEqual(
        new Set(),
      );
    }
  });
});
