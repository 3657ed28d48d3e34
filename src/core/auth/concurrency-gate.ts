/** Thrown when a ConcurrencyGate's waiting line is full: the caller should come back later. */
export class GateFullError extends Error {
  constructor(readonly retryAfterMs: number) {
    super('too many tasks waiting');
    this.name = 'GateFullError';
  }
}

/**
 * Runs at most `limit` tasks at once, with at most `maxWaiting` more in line (first come, first
 * served); beyond that a task is refused at once rather than queued without end, so a flood
 * costs bounded memory and the caller can answer "retry later".
 */
export class ConcurrencyGate {
  private running = 0;
  private admittedCount = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly limit: number,
    readonly maxWaiting: number,
    /** The Retry-After a refusal suggests. */
    private readonly retryAfterMs = 1_000,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Tasks let in so far (run at once or after waiting); refused ones are not counted. */
  get admitted(): number {
    return this.admittedCount;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) {
      if (this.waiting.length >= this.maxWaiting) throw new GateFullError(this.retryAfterMs);
      this.admittedCount++;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.admittedCount++;
      this.running++;
    }
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line, so `running` never dips below the limit.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
