import { ADMIN_SCOPE, type Caller } from '../core/auth/caller.js';

/**
 * Until authentication lands a call may come without a caller: it acts as one anonymous subject
 * holding every scope. The one place to change when auth makes a caller mandatory.
 */
export const ANONYMOUS_CALLER: Caller = Object.freeze({
  subject: 'anonymous',
  scopes: new Set([
    'sessions:read',
    'sessions:write',
    'agents:read',
    'tools:read',
    'tools:execute',
    ADMIN_SCOPE,
  ]),
});

export function callerOrAnonymous(caller: Caller | undefined): Caller {
  return caller ?? ANONYMOUS_CALLER;
}
