import { describe, expect, it } from 'vitest';
import type { BusMessage, EventBus, MessageInterceptor } from '../core/events/event-bus.js';
import type { EventPageReader } from './event-page.reader.js';
import { SessionStreamSequencer } from './session-stream.sequencer.js';
import type { StoredEvent } from './session.types.js';

const event = (seq: number): StoredEvent => ({
  sessionKey: 's',
  seq,
  type: 'message.user',
  at: new Date(0).toISOString(),
  data: { n: seq },
  idempotencyKey: null,
});
const eventMessage = (seq: number): BusMessage => ({
  method: 'session.event',
  params: { sessionKey: 's', seq, type: 'message.user', at: event(seq).at, data: { n: seq } },
});
const deltaMessage = (index: number): BusMessage => ({
  method: 'session.delta',
  params: { sessionKey: 's', messageId: 'm', index, delta: 'w' },
});

function setup(log: number[]) {
  const delivered: BusMessage[] = [];
  let interceptor!: MessageInterceptor;
  let resync!: () => void;
  const deliver = (_topic: string, message: BusMessage): void => void delivered.push(message);
  const bus = {
    intercept: (_prefix: string, handler: MessageInterceptor) => {
      interceptor = handler;
      return deliver;
    },
    onResync: (listener: () => void) => {
      resync = listener;
      return () => undefined;
    },
  } as unknown as EventBus;
  const reads: number[] = [];
  const pages = {
    read: (_key: string, after: number, limit: number) => {
      reads.push(after);
      const events = log
        .filter((seq) => seq > after)
        .slice(0, limit)
        .map(event);
      const last = events.at(-1)?.seq ?? after;
      return Promise.resolve({
        events,
        more: log.some((seq) => seq > last) && events.length === limit,
      });
    },
  } as unknown as EventPageReader;
  const sequencer = new SessionStreamSequencer(bus, pages, {
    sessions: { maxPageBytes: 1 << 20 },
  } as never);
  sequencer.onModuleInit();
  const receive = (message: BusMessage) => interceptor('session:s', message, deliver);
  const seqs = () =>
    delivered.map((m) =>
      m.method === 'session.event' ? m.params.seq : `d${String(m.params.index)}`,
    );
  return { sequencer, receive, delivered, seqs, reads, resync: () => resync() };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('SessionStreamSequencer', () => {
  it('delivers events in order at once, and drops one delivered before', () => {
    const { receive, seqs } = setup([]);
    receive(eventMessage(1));
    receive(eventMessage(2));
    receive(deltaMessage(0));
    receive(eventMessage(2));
    receive(eventMessage(1));
    expect(seqs()).toEqual([1, 2, 'd0']);
  });

  it('reads events that skipped ahead from the log, holding what arrives meanwhile behind them', async () => {
    const { receive, seqs, reads } = setup([1, 2, 3, 4, 5, 6]);
    receive(eventMessage(1));
    receive(eventMessage(4)); // 2 and 3 were lost
    receive(deltaMessage(0));
    receive(eventMessage(5));
    expect(seqs()).toEqual([1]);
    await settle();
    expect(seqs()).toEqual([1, 2, 3, 4, 'd0', 5]);
    expect(reads).toEqual([1]);
    // The lost ones arriving late are not delivered twice.
    receive(eventMessage(3));
    receive(eventMessage(6));
    expect(seqs()).toEqual([1, 2, 3, 4, 'd0', 5, 6]);
  });

  it('starts a session never seen here from a reader position, so a loss right after shows', async () => {
    const { sequencer, receive, seqs } = setup([1, 2, 3, 4]);
    sequencer.startAt('s', 2);
    receive(eventMessage(4));
    await settle();
    expect(seqs()).toEqual([3, 4]);
  });

  it('catches recent streams up with the log after the bus reconnected', async () => {
    const log = [1, 2];
    const { receive, seqs, resync } = setup(log);
    receive(eventMessage(1));
    receive(eventMessage(2));
    log.push(3, 4); // published while the bus was down
    resync();
    await settle();
    await settle();
    expect(seqs()).toEqual([1, 2, 3, 4]);
  });
});
