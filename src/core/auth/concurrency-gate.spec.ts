import { describe, expect, it } from 'vitest';
import { ConcurrencyGate, GateFullError } from './concurrency-gate.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A task that runs until the test lets it finish. */
function heldTask(): { task: () => Promise<string>; release: () => void; started: boolean } {
  let release!: () => void;
  const held = {
    started: false,
    release: () => release(),
    task: () => {
      held.started = true;
      return new Promise<string>((resolve) => (release = () => resolve('done')));
    },
  };
  return held;
}

describe('ConcurrencyGate', () => {
  it('runs at most `limit` tasks at once, the rest in arrival order', async () => {
    const gate = new ConcurrencyGate(2, 10);
    const tasks = Array.from({ length: 5 }, () => heldTask());
    const results = tasks.map((t) => gate.run(t.task));
    await flush();
    expect(tasks.map((t) => t.started)).toEqual([true, true, false, false, false]);
    expect([gate.active, gate.queued]).toEqual([2, 3]);

    tasks[1].release();
    await flush();
    expect(tasks.map((t) => t.started)).toEqual([true, true, true, false, false]);
    expect(gate.active).toBe(2);

    // Each finished task hands its slot to the next in line.
    for (const t of [tasks[0], tasks[2], tasks[3], tasks[4]]) {
      await flush();
      expect(t.started).toBe(true);
      t.release();
    }
    await expect(Promise.all(results)).resolves.toEqual(Array(5).fill('done'));
    expect([gate.active, gate.queued]).toEqual([0, 0]);
  });

  it('refuses a task at once when the line is full, and frees the slot of a failed task', async () => {
    const gate = new ConcurrencyGate(1, 1, 250);
    const first = heldTask();
    const second = heldTask();
    const running = gate.run(first.task);
    const waiting = gate.run(second.task);
    const refused = await gate.run(() => Promise.resolve('never')).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(GateFullError);
    expect((refused as GateFullError).retryAfterMs).toBe(250);

    first.release();
    await running;
    await flush();
    second.release();
    await waiting;
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect([gate.active, gate.queued]).toEqual([0, 0]);
    await expect(gate.run(() => Promise.resolve('again'))).resolves.toBe('again');
    // first, second, the failing one and the last: the refused task was never let in.
    expect(gate.admitted).toBe(4);
  });
});
