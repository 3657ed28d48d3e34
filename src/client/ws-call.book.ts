import type { JsonRpcRequest } from '../core/rpc/json-rpc.types.js';
import { abortReason, type CallOutcome, type OutgoingCall } from './rpc.transport.js';

export interface CallRecord {
  id: number;
  call: OutgoingCall;
  /** Calls of one batch are sent (and re-sent) in one frame. */
  batch?: object;
  settle(outcome: CallOutcome): void;
}

/**
 * The WebSocket transport's calls: every call not yet answered, and those waiting for a
 * connection, in the order they were made. A call settles once: answered, aborted or failed.
 */
export class WsCallBook {
  private readonly records = new Map<number, CallRecord>();
  private queue: CallRecord[] = [];
  private nextId = 1;

  /** `onAborted` hears of each call its signal stopped: the gateway may still be running it. */
  constructor(private readonly onAborted?: (id: number) => void) {}

  /** Books calls (one batch when `batch`) and queues them; each promise settles once. */
  add(calls: OutgoingCall[], batch: boolean): Array<Promise<CallOutcome>> {
    const group = batch ? {} : undefined;
    return calls.map((call) => {
      const id = this.nextId++;
      return new Promise<CallOutcome>((resolve) => {
        const signal = call.signal;
        if (signal?.aborted) return resolve({ ok: false, error: abortReason(signal) });
        const record: CallRecord = { id, call, batch: group, settle: resolve };
        if (signal) {
          const onAbort = (): void => {
            this.settle(id, { ok: false, error: abortReason(signal) });
            this.onAborted?.(id);
          };
          signal.addEventListener('abort', onAbort, { once: true });
          record.settle = (outcome) => {
            signal.removeEventListener('abort', onAbort);
            resolve(outcome);
          };
        }
        this.records.set(id, record);
        this.queue.push(record);
      });
    });
  }

  has(id: number): boolean {
    return this.records.has(id);
  }

  get(id: number): CallRecord | undefined {
    return this.records.get(id);
  }

  settle(id: number, outcome: CallOutcome): void {
    const record = this.records.get(id);
    if (!record) return;
    this.records.delete(id);
    this.queue = this.queue.filter((queued) => queued !== record);
    record.settle(outcome);
  }

  settleAll(error: Error): void {
    for (const id of [...this.records.keys()]) this.settle(id, { ok: false, error });
  }

  /** Puts a sent call back in the queue, to be sent again on the next connection. */
  requeue(record: CallRecord): void {
    if (this.records.has(record.id) && !this.queue.includes(record)) this.queue.push(record);
  }

  /**
   * Empties the queue into frames, oldest call first: one request per call, one array per
   * batch. Returns each frame with the ids it carries.
   */
  takeFrames(): Array<{ frame: string; ids: number[]; batch: boolean }> {
    const queue = this.queue.sort((a, b) => a.id - b.id);
    this.queue = [];
    const frames: Array<{ frame: string; ids: number[]; batch: boolean }> = [];
    const sent = new Set<object>();
    for (const record of queue) {
      if (record.batch === undefined) {
        frames.push({ frame: JSON.stringify(request(record)), ids: [record.id], batch: false });
        continue;
      }
      if (sent.has(record.batch)) continue;
      sent.add(record.batch);
      const members = queue.filter((r) => r.batch === record.batch);
      frames.push({
        frame: JSON.stringify(members.map(request)),
        ids: members.map((r) => r.id),
        batch: true,
      });
    }
    return frames;
  }

  get queued(): number {
    return this.queue.length;
  }
}

function request(record: CallRecord): JsonRpcRequest {
  return { jsonrpc: '2.0', id: record.id, method: record.call.method, params: record.call.params };
}
