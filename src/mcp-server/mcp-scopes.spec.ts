import { describe, expect, it } from 'vitest';
import type { Caller } from '../core/identity/caller.js';
import { callerFromAuthInfo, missingScope, toAuthInfo } from './mcp-scopes.js';

function caller(...scopes: string[]): Caller {
  return { subject: 'alice', scopes: new Set(scopes), expiresAt: 1_800_000_000_500 };
}

const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } };
const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };

describe('missingScope', () => {
  it('names the scope a tools method needs when the caller lacks it', () => {
    expect(missingScope(caller('tools:read'), call)).toBe('tools:execute');
    expect(missingScope(caller('tools:execute'), list)).toBe('tools:read');
    expect(missingScope(caller('tools:read', 'tools:execute'), call)).toBeUndefined();
  });

  it('lets admin through and checks every message of a batch', () => {
    expect(missingScope(caller('admin'), [list, call])).toBeUndefined();
    expect(missingScope(caller('tools:read'), [list, call])).toBe('tools:execute');
  });

  it('needs nothing for the lifecycle, notifications and replies, or for a body that is not a message', () => {
    const none = caller();
    expect(missingScope(none, { jsonrpc: '2.0', id: 1, method: 'initialize' })).toBeUndefined();
    expect(missingScope(none, { jsonrpc: '2.0', method: 'notifications/initialized' })).toBe(
      undefined,
    );
    expect(missingScope(none, { jsonrpc: '2.0', id: 3, result: {} })).toBeUndefined();
    expect(missingScope(none, null)).toBeUndefined();
    expect(missingScope(none, { method: 'constructor' })).toBeUndefined();
  });
});

describe('toAuthInfo', () => {
  it('hands the caller to handlers without the credential, expiry in seconds', () => {
    const info = toAuthInfo(caller('tools:read'));
    expect(info).toMatchObject({
      token: '',
      clientId: 'alice',
      scopes: ['tools:read'],
      expiresAt: 1_800_000_000,
    });
    expect(callerFromAuthInfo(info)).toEqual(caller('tools:read'));
  });

  it('finds no caller on auth info that did not come from it', () => {
    expect(callerFromAuthInfo(undefined)).toBeUndefined();
    expect(
      callerFromAuthInfo({ token: 't', clientId: 'c', scopes: [], extra: { other: 1 } }),
    ).toBeUndefined();
  });
});
