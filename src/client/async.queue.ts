/**
 * A push-fed async iterator: producers push items, end it or fail it; the consumer gets the
 * items in order, then the end or the error. `onReturn` runs once when the consumer stops early
 * or the queue ends, to release what feeds it.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting?: { resolve(result: IteratorResult<T>): void; reject(error: unknown): void };
  private done = false;
  private failure?: { error: unknown };
  private released = false;

  constructor(private readonly onReturn: () => void = () => undefined) {}

  get ended(): boolean {
    return this.done || this.failure !== undefined;
  }

  push(item: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting.resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  end(): void {
    if (this.ended) return;
    this.done = true;
    this.release();
    this.wake();
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.failure = { error };
    this.release();
    this.wake();
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.failure) {
      const { error } = this.failure;
      // The error is thrown once; the iterator is done after it.
      this.failure = undefined;
      this.done = true;
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.failure = undefined;
    this.done = true;
    this.release();
    this.wake();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private wake(): void {
    const waiting = this.waiting;
    if (!waiting) return;
    this.waiting = undefined;
    this.next().then(
      (result) => waiting.resolve(result),
      (error: unknown) => waiting.reject(error),
    );
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.onReturn();
  }
}
