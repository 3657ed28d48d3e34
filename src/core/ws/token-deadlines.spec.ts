import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenDeadlines, type DeadlineHolder } from './token-deadlines.js';

/** A holder that records when its deadline was reported. */
class Holder implements DeadlineHolder {
  deadlineSlot = -1;
  passedAt?: number;
  calls = 0;

  constructor(readonly name = '') {}

  deadlinePassed(): void {
    this.calls++;
    this.passedAt = Date.now();
  }
}

describe('TokenDeadlines', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs many deadlines behind one timer, each exactly at its deadline', () => {
    const sweep = new TokenDeadlines();
    const start = Date.now();
    // Out of order, some sharing a millisecond.
    const offsets = [5_000, 1_000, 3_000, 1_000, 2_500, 4_000, 3_000, 1];
    const holders = offsets.map((offset) => {
      const holder = new Holder();
      sweep.set(holder, start + offset);
      return holder;
    });
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(5_000);
    holders.forEach((holder, i) => {
      expect(holder.calls).toBe(1);
      expect(holder.passedAt).toBe(start + offsets[i]);
    });
    expect(sweep.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('closes exactly the due holders and keeps the rest', () => {
    const sweep = new TokenDeadlines();
    const now = Date.now();
    const due = [new Holder(), new Holder()];
    const later = [new Holder(), new Holder()];
    for (const holder of due) sweep.set(holder, now + 1_000);
    for (const holder of later) sweep.set(holder, now + 1_001);
    vi.advanceTimersByTime(999);
    expect(due.map((h) => h.calls)).toEqual([0, 0]);
    vi.advanceTimersByTime(1);
    expect(due.map((h) => h.calls)).toEqual([1, 1]);
    expect(later.map((h) => h.calls)).toEqual([0, 0]);
    expect(sweep.size).toBe(2);
    vi.advanceTimersByTime(1);
    expect(later.map((h) => h.calls)).toEqual([1, 1]);
  });

  it('forgets a removed holder and moves a holder whose deadline is set again', () => {
    const sweep = new TokenDeadlines();
    const now = Date.now();
    const removed = new Holder();
    const moved = new Holder();
    const kept = new Holder();
    sweep.set(removed, now + 1_000);
    sweep.set(moved, now + 2_000);
    sweep.set(kept, now + 3_000);
    sweep.remove(removed);
    // A refreshed deadline, later than before: only the new one counts.
    sweep.set(moved, now + 4_000);
    expect(sweep.size).toBe(2);
    vi.advanceTimersByTime(3_000);
    expect(removed.calls).toBe(0);
    expect(moved.calls).toBe(0);
    expect(kept.calls).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(moved.calls).toBe(1);
    // Removing twice, or a holder never added, is harmless.
    sweep.remove(removed);
    sweep.remove(new Holder());
    expect(sweep.size).toBe(0);
  });

  it('moves an earlier deadline in front of the armed timer', () => {
    const sweep = new TokenDeadlines();
    const now = Date.now();
    const late = new Holder();
    const early = new Holder();
    sweep.set(late, now + 10_000);
    sweep.set(early, now + 100);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(early.calls).toBe(1);
    expect(late.calls).toBe(0);
  });

  it('reports a deadline already passed at once', () => {
    const sweep = new TokenDeadlines();
    const holder = new Holder();
    sweep.set(holder, Date.now());
    expect(holder.calls).toBe(1);
    expect(sweep.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('re-arms a deadline beyond what one timer can hold instead of firing early', () => {
    const sweep = new TokenDeadlines();
    const holder = new Holder();
    const thirtyDays = 30 * 86_400_000;
    sweep.set(holder, Date.now() + thirtyDays);
    vi.advanceTimersByTime(2 ** 31);
    expect(holder.calls).toBe(0);
    vi.advanceTimersByTime(thirtyDays - 2 ** 31);
    expect(holder.calls).toBe(1);
  });

  it('keeps heap order through many random sets and removals', () => {
    const sweep = new TokenDeadlines();
    const start = Date.now();
    const deadlineOf = new Map<Holder, number>();
    let seed = 7;
    const random = (): number => (seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647;
    const holders = Array.from({ length: 500 }, (_, i) => new Holder(String(i)));
    for (const holder of holders) {
      const deadline = start + 1 + Math.floor(random() * 10_000);
      sweep.set(holder, deadline);
      deadlineOf.set(holder, deadline);
    }
    for (const holder of holders.filter(() => random() < 0.3)) {
      sweep.remove(holder);
      deadlineOf.delete(holder);
    }
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(10_000);
    for (const holder of holders) {
      const deadline = deadlineOf.get(holder);
      expect(holder.calls).toBe(deadline === undefined ? 0 : 1);
      if (deadline !== undefined) expect(holder.passedAt).toBe(deadline);
    }
    expect(vi.getTimerCount()).toBe(0);
  });

  it('lets a holder whose deadline passes remove or re-add itself from its callback', () => {
    const sweep = new TokenDeadlines();
    const now = Date.now();
    const renewing = new Holder();
    renewing.deadlinePassed = function (this: Holder): void {
      this.calls++;
      if (this.calls === 1) sweep.set(this, Date.now() + 500);
    };
    sweep.set(renewing, now + 100);
    vi.advanceTimersByTime(100);
    expect(renewing.calls).toBe(1);
    expect(sweep.size).toBe(1);
    vi.advanceTimersByTime(500);
    expect(renewing.calls).toBe(2);
    expect(sweep.size).toBe(0);
  });

  it('still runs the other deadlines when one holder throws', () => {
    const sweep = new TokenDeadlines();
    const now = Date.now();
    const failing = new Holder();
    failing.deadlinePassed = (): void => {
      throw new Error('close failed');
    };
    const later = new Holder();
    sweep.set(failing, now + 100);
    sweep.set(later, now + 200);
    expect(() => vi.advanceTimersByTime(100)).toThrow('close failed');
    vi.advanceTimersByTime(100);
    expect(later.calls).toBe(1);
  });

  it('stops its timer without losing the deadlines', () => {
    const sweep = new TokenDeadlines();
    sweep.set(new Holder(), Date.now() + 1_000);
    sweep.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(sweep.size).toBe(1);
  });
});
