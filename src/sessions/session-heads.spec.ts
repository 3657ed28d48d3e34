import { describe, expect, it } from 'vitest';
import { SessionHeads } from './session-heads.js';
import type { StoredEvent } from './session.types.js';

const events = (sessionKey: string, ...seqs: number[]): StoredEvent[] =>
  seqs.map((seq) => ({ sessionKey, seq, type: 'message.user', at: '', data: {} }));

describe('SessionHeads', () => {
  it('knows a session once a write of it committed: its last event, or a create’s first', async () => {
    const heads = new SessionHeads();
    expect(heads.get('a')).toBeUndefined();
    await heads.follow('a', Promise.resolve({ event: events('a', 1)[0] }));
    expect(heads.get('a')).toBe(1);
    const written = events('a', 2, 3);
    expect(await heads.follow('a', Promise.resolve(written))).toBe(written);
    expect(heads.get('a')).toBe(3);
  });

  it('does not know a write before it commits, and forgets the session when one fails', async () => {
    const heads = new SessionHeads();
    await heads.follow('a', Promise.resolve(events('a', 4)));
    let commit!: (value: StoredEvent[]) => void;
    const pending = heads.follow('a', new Promise<StoredEvent[]>((r) => (commit = r)));
    expect(heads.get('a')).toBe(4);
    commit(events('a', 5));
    await pending;
    expect(heads.get('a')).toBe(5);
    const failure = new Error('writer thread exited');
    await expect(heads.follow('a', Promise.reject(failure))).rejects.toBe(failure);
    expect(heads.get('a')).toBeUndefined();
  });

  it('never moves back when an older write settles late', async () => {
    const heads = new SessionHeads();
    await heads.follow('a', Promise.resolve(events('a', 7)));
    await heads.follow('a', Promise.resolve(events('a', 6)));
    expect(heads.get('a')).toBe(7);
  });

  it('keeps at most its bound, dropping the session written to longest ago', async () => {
    const heads = new SessionHeads(2);
    await heads.follow('a', Promise.resolve(events('a', 1)));
    await heads.follow('b', Promise.resolve(events('b', 1)));
    await heads.follow('a', Promise.resolve(events('a', 2)));
    await heads.follow('c', Promise.resolve(events('c', 1)));
    expect([heads.get('a'), heads.get('b'), heads.get('c')]).toEqual([2, undefined, 1]);
  });
});
