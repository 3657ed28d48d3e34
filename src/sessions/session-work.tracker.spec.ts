import { describe, expect, it } from 'vitest';
import { SessionWorkTracker } from './session-work.tracker.js';

describe('SessionWorkTracker.cancelTurn', () => {
  it('stops only the running turn, not a waiting one nor a client tool run', async () => {
    const tracker = new SessionWorkTracker();
    const running = tracker.start('s');
    const waiting = tracker.start('s');
    const toolRun = tracker.start('s');
    running.running();
    running.signal.addEventListener('abort', () => running.done());
    expect(await tracker.cancelTurn('s', new Error('stop'), 1000)).toBe(true);
    expect(running.signal.aborted).toBe(true);
    expect(waiting.signal.aborted).toBe(false);
    expect(toolRun.signal.aborted).toBe(false);
  });

  it('stops only the turn under the given lease token', async () => {
    const tracker = new SessionWorkTracker();
    const turn = tracker.start('s');
    turn.running(7);
    expect(await tracker.cancelTurn('s', new Error('late'), 0, 6)).toBe(false);
    expect(turn.signal.aborted).toBe(false);
    expect(await tracker.cancelTurn('s', new Error('now'), 0, 7)).toBe(true);
    expect(turn.signal.aborted).toBe(true);
  });

  it('answers false with nothing running, and after the turn has finished', async () => {
    const tracker = new SessionWorkTracker();
    expect(await tracker.cancelTurn('s', new Error('x'), 0)).toBe(false);
    const turn = tracker.start('s');
    turn.running();
    turn.done();
    expect(await tracker.cancelTurn('s', new Error('x'), 0)).toBe(false);
  });

  it('waits for the stopped turn to record its outcome, up to the grace', async () => {
    const tracker = new SessionWorkTracker();
    const turn = tracker.start('s');
    turn.running();
    let recorded = false;
    turn.signal.addEventListener('abort', () =>
      setImmediate(() => {
        recorded = true;
        turn.done();
      }),
    );
    await tracker.cancelTurn('s', new Error('stop'), 5000);
    expect(recorded).toBe(true);
    const stuck = tracker.start('t');
    stuck.running();
    const started = Date.now();
    expect(await tracker.cancelTurn('t', new Error('stop'), 50)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
