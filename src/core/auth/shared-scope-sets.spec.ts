import { describe, expect, it } from 'vitest';
import { SharedScopeSets } from './shared-scope-sets.js';

describe('SharedScopeSets', () => {
  it('gives callers with the same scopes one set', () => {
    const sets = new SharedScopeSets();
    const first = sets.of(new Set(['sessions:read', 'agents:read']));
    const second = sets.of(new Set(['sessions:read', 'agents:read']));
    expect(second).toBe(first);
    expect([...second]).toEqual(['sessions:read', 'agents:read']);
  });

  it('never shares a set between different scope lists, whatever their spelling', () => {
    const sets = new SharedScopeSets();
    const joined = sets.of(new Set(['a b']));
    const split = sets.of(new Set(['a', 'b']));
    const empty = sets.of(new Set<string>());
    expect(split).not.toBe(joined);
    expect([...joined]).toEqual(['a b']);
    expect([...split]).toEqual(['a', 'b']);
    expect(empty.size).toBe(0);
    expect(sets.of(new Set(['admin']))).not.toBe(sets.of(new Set(['admin', 'a'])));
  });

  it('stays bounded: a full table starts again and still answers equal sets', () => {
    const sets = new SharedScopeSets(3);
    for (let i = 0; i < 10; i++) sets.of(new Set([`scope:${i}`]));
    expect(sets.size).toBeLessThanOrEqual(3);
    const again = sets.of(new Set(['scope:3', 'x']));
    expect([...again]).toEqual(['scope:3', 'x']);
    expect(sets.of(new Set(['scope:3', 'x']))).toBe(again);
  });
});
