import { describe, expect, it } from 'vitest';
import { InProcessEventBus } from '../core/events/in-process.event-bus.js';
import type { RpcConnection } from '../core/rpc/rpc-connection.js';
import { sessionTopic, type SessionEvent } from './session-api.types.js';
import { SessionSubscriptions } from './session-subscriptions.js';

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
const publish = (bus: InProcessEventBus, seq: number) =>
  bus.publish(sessionTopic('s'), { method: 'session.event', params: { sessionKey: 's', seq } });
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('SessionSubscriptions.resume', () => {
  it('continues the live stream right after the page, dropping what the page holds', async () => {
    const bus = new InProcessEventBus();
    const subscriptions = new SessionSubscriptions(bus);
    const { connection, received, subscribed } = fakeConnection(bus);

    const page = await subscriptions.resume(connection, 's', 2, 100, () => {
      // Events 3 and 4 commit (and are published) while the page is read; 4 misses the page.
      publish(bus, 3);
      publish(bus, 4);
      return Promise.resolve([event(3)]);
    });
    expect(page.map((e) => e.seq)).toEqual([3]);
    publish(bus, 5); // after the reply, before the flush: still captured
    expect(received).toEqual([]);
    await nextTurn();
    publish(bus, 6);
    expect(subscribed(sessionTopic('s'))).toBe(true);
    expect(received.map((m) => m.params.seq)).toEqual([4, 5, 6]);
  });

  it('leaves the stream parked after a full page, and stops capturing', async () => {
    const bus = new InProcessEventBus();
    const subscriptions = new SessionSubscriptions(bus);
    const { connection, received, subscribed } = fakeConnection(bus);
    connection.subscribe(sessionTopic('s'));

    await subscriptions.resume(connection, 's', 0, 2, () => Promise.resolve([event(1), event(2)]));
    await nextTurn();
    publish(bus, 3);
    expect(subscribed(sessionTopic('s'))).toBe(false);
    expect(received).toEqual([]);
    expect(bus.listenerCount(sessionTopic('s'))).toBe(0);
  });

  it('subscribes nothing when the read fails', async () => {
    const bus = new InProcessEventBus();
    const subscriptions = new SessionSubscriptions(bus);
    const { connection, subscribed } = fakeConnection(bus);
    await expect(
      subscriptions.resume(connection, 's', 0, 10, () => Promise.reject(new Error('not yours'))),
    ).rejects.toThrow('not yours');
    await nextTurn();
    expect(subscribed(sessionTopic('s'))).toBe(false);
    expect(bus.listenerCount(sessionTopic('s'))).toBe(0);
  });
});
