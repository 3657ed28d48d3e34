import { describe, expect, it } from 'vitest';
import { LinkedAbortController } from './linked-abort.controller.js';

describe('LinkedAbortController', () => {
  it('aborts with its parent, with the parent’s reason', () => {
    const parent = new AbortController();
    const child = new LinkedAbortController(parent.signal);
    const reason = new Error('client gone');
    parent.abort(reason);
    expect(child.signal.aborted).toBe(true);
    expect(child.signal.reason).toBe(reason);
  });

  it('starts aborted under an aborted parent, and aborts alone without touching the parent', () => {
    expect(new LinkedAbortController(AbortSignal.abort('x')).signal.reason).toBe('x');
    const parent = new AbortController();
    const child = new LinkedAbortController(parent.signal);
    child.abort('own');
    expect(parent.signal.aborted).toBe(false);
  });

  it('follows the first of several parents to abort', () => {
    const [a, b] = [new AbortController(), new AbortController()];
    const child = new LinkedAbortController(a.signal, undefined, b.signal);
    b.abort('b');
    a.abort('a');
    expect(child.signal.reason).toBe('b');
  });

  it('stops following the parent once disposed', () => {
    const parent = new AbortController();
    const child = new LinkedAbortController(parent.signal);
    child.dispose();
    parent.abort();
    expect(child.signal.aborted).toBe(false);
  });
});
