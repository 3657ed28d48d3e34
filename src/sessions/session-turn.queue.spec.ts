import { describe, expect, it } from 'vitest';
import { SessionTurnQueue } from './session-turn.queue.js';
import { SessionBusyException } from './session.exception.js';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('SessionTurnQueue', () => {
  it('runs one turn at a time in arrival order and refuses turns beyond its capacity', async () => {
    const queue = new SessionTurnQueue();
    const gate = deferred();
    const order: number[] = [];
    const first = queue.run('s', 2, async () => {
      await gate.promise;
      order.push(1);
    });
    const second = queue.run('s', 2, () => Promise.resolve(void order.push(2)));
    const third = queue.run('s', 2, () => Promise.resolve(void order.push(3)));
    expect(() => queue.run('s', 2, () => Promise.resolve(void order.push(4)))).toThrow(
      SessionBusyException,
    );
    // Another session has its own lane.
    await queue.run('other', 0, () => Promise.resolve(void order.push(0)));
    gate.resolve();
    await Promise.all([first, second, third]);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(queue.pending('s')).toBe(0);
  });

  it('keeps going after a failed turn', async () => {
    const queue = new SessionTurnQueue();
    const failed = queue.run('s', 1, () => Promise.reject(new Error('boom')));
    const next = queue.run('s', 1, () => Promise.resolve('ok'));
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });
});
