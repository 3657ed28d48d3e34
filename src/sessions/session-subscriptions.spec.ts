import { describe, expect, it } from 'vitest';
import { connectFakeWs } from '../../test/support/fake-ws-socket.js';
import { ALL_TOPICS } from '../core/events/event-bus.js';
import { InProcessEventBus } from '../core/events/in-process.event-bus.js';
import { WsConnectionRegistry } from '../core/ws/ws-connection.registry.js';
import type { RpcConnection } from '../core/rpc/rpc-connection.js';
import { sessionTopic, type SessionEvent } from './session-api.types.js';
import { SessionSubscriptions, type ResumePage } from './session-subscriptions.js';

/** A connection fed by the bus like the WebSocket relay feeds real ones. */
function fakeConnection(bus: InProcessEventBus) {
  const received: Array<{ method: string; params: Record<string, unknown> }> = [];
  const subs = new Map<string, () => void>();
  const connection: RpcConnection = {
    id: 'c1',
    subscribe: (topic) => {
      if (!subs.has(topic))
        subs.set(
          topic,
          bus.subscribe(topic, (m) => received.push(m)),
        );
    },
    unsubscribe: (topic) => {
      subs.get(topic)?.();
      subs.delete(topic);
    },
    notify: (method, params) => (received.push({ method, params }), true),
  };
  return { connection, received, subscribed: (topic: string) => subs.has(topic) };
}

const event = (seq: number): SessionEvent => ({ seq, type: 'x', at: '', data: {} });
const page = (seqs: number[], more = false): Promise<ResumePage> =>
  Promise.resolve({ events: seqs.map(event), more });
const publish = (bus: InProcessEventBus, seq: number) =>
  bus.publish(sessionTopic('s'), { method: 'session.event', params: { sessionKey: 's', seq } });
const delta = (bus: InProcessEventBus, index: number) =>
  bus.publish(sessionTopic('s'), {
    method: 'session.delta',
    params: { sessionKey: 's', messageId: 'm', index, delta: 'w' },
  });
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function setup() {
  const bus = new InProcessEventBus();
  const subscriptions = new SessionSubscriptions(bus, { startAt: () => undefined } as never);
  return { bus, subscriptions, ...fakeConnection(bus) };
}

describe('SessionSubscriptions.resume', () => {
  it('continues the live stream right after the page, dropping what the page holds', async () => {
    const { bus, subscriptions, connection, received, subscribed } = setup();

    const events = await subscriptions.resume(connection, 's', () => {
      // Events 3 and 4 commit (and are published) while the page is read; 4 misses the page.
      publish(bus, 3);
      publish(bus, 4);
      return page([3]);
    });
    expect(events.map((e) => e.seq)).toEqual([3]);
    publish(bus, 5); // after the reply, before the flush: still held
    expect(received).toEqual([]);
    await nextTurn();
    publish(bus, 6);
    expect(subscribed(sessionTopic('s'))).toBe(true);
    expect(received.map((m) => m.params.seq)).toEqual([4, 5, 6]);
  });

  it('leaves the stream parked after a page that stops short of the end, and stops holding', async () => {
    const { bus, subscriptions, connection, received, subscribed } = setup();
    subscriptions.follow(connection, 's');

    await subscriptions.resume(connection, 's', () => page([1, 2], true));
    await nextTurn();
    publish(bus, 3);
    expect(subscribed(sessionTopic('s'))).toBe(false);
    expect(received).toEqual([]);
    expect(bus.listenerCount(sessionTopic('s'))).toBe(0);
  });

  it('subscribes nothing when the read fails', async () => {
    const { bus, subscriptions, connection, subscribed } = setup();
    await expect(
      subscriptions.resume(connection, 's', () => Promise.reject(new Error('not yours'))),
    ).rejects.toThrow('not yours');
    await nextTurn();
    expect(subscribed(sessionTopic('s'))).toBe(false);
    expect(bus.listenerCount(sessionTopic('s'))).toBe(0);
  });

  it('keeps a live connection live when a read fails, with nothing lost meanwhile', async () => {
    const { bus, subscriptions, connection, received, subscribed } = setup();
    subscriptions.follow(connection, 's');
    await expect(
      subscriptions.resume(connection, 's', () => {
        publish(bus, 7);
        return Promise.reject(new Error('database down'));
      }),
    ).rejects.toThrow('database down');
    await nextTurn();
    publish(bus, 8);
    expect(subscribed(sessionTopic('s'))).toBe(true);
    expect(received.map((m) => m.params.seq)).toEqual([7, 8]);
  });

  it('delivers every event and delta once when a message on the same connection follows during the read', async () => {
    const { bus, subscriptions, connection, received } = setup();

    const reply = subscriptions.resume(connection, 's', async () => {
      // session.message on the same socket: its follow, then its events, while the page is read.
      subscriptions.follow(connection, 's');
      publish(bus, 2);
      delta(bus, 0);
      delta(bus, 1);
      await nextTurn();
      return page([1, 2]);
    });
    expect((await reply).map((e) => e.seq)).toEqual([1, 2]);
    publish(bus, 3); // between the reply and the flush
    subscriptions.follow(connection, 's'); // another call's follow meanwhile
    await nextTurn();
    publish(bus, 4);
    subscriptions.follow(connection, 's');
    publish(bus, 5);

    expect(received.map((m) => m.params.seq ?? `d${String(m.params.index)}`)).toEqual([
      'd0',
      'd1',
      3,
      4,
      5,
    ]);
  });

  it('holds live events for a client that pages on, and resumes them once after the last page', async () => {
    const { bus, subscriptions, connection, received } = setup();
    await subscriptions.resume(connection, 's', () => page([1, 2], true));
    // A message on the same connection while the client pages: it waits for the last page.
    subscriptions.follow(connection, 's');
    publish(bus, 3);
    expect(received).toEqual([]);
    await subscriptions.resume(connection, 's', () => {
      publish(bus, 4);
      return page([3, 4]);
    });
    publish(bus, 5);
    await nextTurn();
    publish(bus, 6);
    expect(received.map((m) => m.params.seq)).toEqual([5, 6]);
  });

  it('flushes once when two reads overlap, after the last one', async () => {
    const { bus, subscriptions, connection, received } = setup();
    let finishFirst!: (page: ResumePage) => void;
    const first = subscriptions.resume(
      connection,
      's',
      () => new Promise<ResumePage>((resolve) => (finishFirst = resolve)),
    );
    publish(bus, 2);
    const second = subscriptions.resume(connection, 's', () => page([1, 2]));
    await second;
    publish(bus, 3);
    await nextTurn(); // the second read's flush gives way to the first, still reading
    expect(received).toEqual([]);
    finishFirst({ events: [event(1)], more: false });
    await first;
    await nextTurn();
    publish(bus, 4);
    expect(received.map((m) => m.params.seq)).toEqual([3, 4]);
    expect(bus.listenerCount(sessionTopic('s'))).toBe(1);
  });
});

describe('SessionSubscriptions.resume on a WebSocket connection', () => {
  it('does not send twice an event the page holds but whose publication comes after the stream went live', async () => {
    // The relay and registry of the real gateway: the bus feeds the connections subscribed.
    const bus = new InProcessEventBus();
    const registry = new WsConnectionRegistry();
    bus.subscribe(ALL_TOPICS, (message, topic) =>
      registry.publish(topic, message.method, message.params),
    );
    const { socket, connection } = connectFakeWs(registry);
    const subscriptions = new SessionSubscriptions(bus, { startAt: () => undefined } as never);

    // Event 3 is committed, so the page holds it, but its writer has not published it yet.
    const events = await subscriptions.resume(connection, 's', () => page([1, 2, 3]));
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    await nextTurn();
    publish(bus, 3);
    delta(bus, 0);
    publish(bus, 4);
    const sent = socket.sent.map((frame) => JSON.parse(frame) as { method: string; params: any });
    expect(sent.map((f) => [f.method, f.params.seq])).toEqual([
      ['session.delta', undefined],
      ['session.event', 4],
    ]);
  });
});
