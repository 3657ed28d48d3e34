import { describe, expect, it } from 'vitest';
import type { Caller } from '../identity/caller.js';
import { VerifiedTokenCache } from './verified-token.cache.js';

const caller = (subject: string): Caller => ({ subject, scopes: new Set(['agents:read']) });

describe('VerifiedTokenCache', () => {
  it('returns a verified caller only for the exact token, until its deadline', () => {
    let now = 1_000;
    const cache = new VerifiedTokenCache(10, () => now);
    cache.set('a.b.c', caller('alice'), 2_000);
    expect(cache.get('a.b.c')?.subject).toBe('alice');
    expect(cache.get('a.b.d')).toBeUndefined();
    now = 2_000;
    expect(cache.get('a.b.c')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('never stores a token already past its deadline', () => {
    const cache = new VerifiedTokenCache(10, () => 5_000);
    cache.set('t', caller('alice'), 5_000);
    expect(cache.get('t')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('stays within its bound by dropping the oldest entry', () => {
    const cache = new VerifiedTokenCache(3, () => 0);
    for (const token of ['t1', 't2', 't3', 't4']) cache.set(token, caller(token), 1_000);
    expect(cache.size).toBe(3);
    expect(cache.get('t1')).toBeUndefined();
    expect(cache.get('t4')?.subject).toBe('t4');
  });

  it('keys by a digest, so a large token costs no more memory than a small one', () => {
    const cache = new VerifiedTokenCache(10, () => 0);
    const large = 'x'.repeat(8_000);
    cache.set(large, caller('big'), 1_000);
    expect(cache.get(large)?.subject).toBe('big');
    expect(cache.get(large.slice(1))).toBeUndefined();
  });
});
