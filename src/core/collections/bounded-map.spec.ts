import { describe, expect, it } from 'vitest';

import { setNewest } from './bounded-map.js';

/** a, b, c: oldest first. */
const abc = () =>
  new Map([
    ['a', 1],
    ['b', 2],
    ['c', 3],
  ]);

describe('setNewest', () => {
  it('keeps at most `max` entries, dropping the oldest first', () => {
    const map = new Map<string, number>();
    for (let i = 0; i < 5; i++) setNewest(map, `k${i}`, i, 3);
    expect([...map]).toEqual([
      ['k2', 2],
      ['k3', 3],
      ['k4', 4],
    ]);
  });

  it('moves a key written again to the newest place without dropping another', () => {
    const map = abc();
    setNewest(map, 'a', 10, 3);
    expect([...map]).toEqual([
      ['b', 2],
      ['c', 3],
      ['a', 10],
    ]);
    setNewest(map, 'd', 4, 3);
    expect([...map.keys()]).toEqual(['c', 'a', 'd']);
  });

  it('shrinks a map that is over its bound down to it', () => {
    const map = abc();
    setNewest(map, 'd', 4, 2);
    expect([...map.keys()]).toEqual(['c', 'd']);
  });

  it('keeps nothing at a bound of zero', () => {
    const map = new Map([['a', 1]]);
    setNewest(map, 'b', 2, 0);
    expect(map.size).toBe(0);
  });
});
