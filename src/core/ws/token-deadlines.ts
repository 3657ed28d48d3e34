// setTimeout holds at most 2^31-1 ms (about 24.8 days); a later deadline is re-armed in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Something that must be told when its deadline passes (a WebSocket whose token expires). */
export interface DeadlineHolder {
  /** Its place in the sweep's heap, -1 when it is not in it. Kept by the sweep only. */
  deadlineSlot: number;
  /** Called once, when the deadline has passed (removed from the sweep first). */
  deadlinePassed(): void;
}

/**
 * The deadlines of many holders behind ONE timer, armed for the earliest of them: an idle
 * socket costs a heap slot instead of a Timeout, its closure and (for distinct durations) a
 * timer list of its own. A min-heap by deadline; each holder knows its slot, so removing one
 * (a socket that closes first) is O(log n) and leaves nothing behind. The timer fires at the
 * earliest deadline exactly, as a per-socket timer would, and runs every holder due by then.
 */
export class TokenDeadlines {
  private readonly holders: DeadlineHolder[] = [];
  private readonly deadlines: number[] = [];
  private timer?: NodeJS.Timeout;
  /** When the armed timer fires (epoch ms). */
  private armedFor = Infinity;

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.holders.length;
  }

  /** Sets (or moves) the holder's deadline, epoch ms. A deadline already passed fires now. */
  set(holder: DeadlineHolder, deadline: number): void {
    this.remove(holder);
    if (deadline <= this.now()) {
      holder.deadlinePassed();
      return;
    }
    const slot = this.holders.length;
    this.holders.push(holder);
    this.deadlines.push(deadline);
    holder.deadlineSlot = slot;
    this.up(slot);
    this.arm();
  }

  /** Forgets the holder's deadline; nothing happens if it has none. */
  remove(holder: DeadlineHolder): void {
    const slot = holder.deadlineSlot;
    if (slot < 0 || this.holders[slot] !== holder) return;
    holder.deadlineSlot = -1;
    const last = this.holders.length - 1;
    const movedHolder = this.holders.pop()!;
    const movedDeadline = this.deadlines.pop()!;
    if (slot !== last) {
      this.place(slot, movedHolder, movedDeadline);
      this.down(slot);
      this.up(slot);
    }
    // An earlier deadline gone only makes the timer fire early (it re-arms); none left, no timer.
    if (this.holders.length === 0) this.disarm();
  }

  /** Stops the timer (shutdown); the holders stay where they are. */
  stop(): void {
    this.disarm();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = this.now();
    // Re-armed even if a holder throws: the others' deadlines must still come.
    try {
      while (this.holders.length > 0 && this.deadlines[0] <= now) {
        const due = this.holders[0];
        this.remove(due);
        due.deadlinePassed();
      }
    } finally {
      this.arm();
    }
  }

  private arm(): void {
    if (this.holders.length === 0) return;
    const next = this.deadlines[0];
    if (this.timer && next >= this.armedFor) return;
    this.disarm();
    this.armedFor = next;
    this.timer = setTimeout(() => this.fire(), Math.min(next - this.now(), MAX_TIMER_MS));
    // The timer must not keep a shutting-down process alive.
    this.timer.unref();
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private place(slot: number, holder: DeadlineHolder, deadline: number): void {
    this.holders[slot] = holder;
    this.deadlines[slot] = deadline;
    holder.deadlineSlot = slot;
  }

  private up(slot: number): void {
    const holder = this.holders[slot];
    const deadline = this.deadlines[slot];
    while (slot > 0) {
      const parent = (slot - 1) >> 1;
      if (this.deadlines[parent] <= deadline) break;
      this.place(slot, this.holders[parent], this.deadlines[parent]);
      slot = parent;
    }
    this.place(slot, holder, deadline);
  }

  private down(slot: number): void {
    const count = this.holders.length;
    const holder = this.holders[slot];
    const deadline = this.deadlines[slot];
    for (;;) {
      let child = 2 * slot + 1;
      if (child >= count) break;
      if (child + 1 < count && this.deadlines[child + 1] < this.deadlines[child]) child++;
      if (this.deadlines[child] >= deadline) break;
      this.place(slot, this.holders[child], this.deadlines[child]);
      slot = child;
    }
    this.place(slot, holder, deadline);
  }
}
