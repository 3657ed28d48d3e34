import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl, reportMissingPostgres } from '../../../test/support/databases.js';
import { reportMissingRedis, startTestRedis, type TestRedis } from '../../../test/support/redis.js';
import type { BusTransport } from './bus-transport.js';
import { ClusteredEventBus } from './clustered.event-bus.js';
import type { BusMessage } from './event-bus.js';
import { PostgresBusTransport } from './postgres.bus-transport.js';
import { RedisBusTransport } from './redis.bus-transport.js';
import { freePort } from '../../../test/support/process.js';

const redis = await startTestRedis();
if (!redis) reportMissingRedis('clustered event bus');
const pgUrl = await postgresUrl();
if (!pgUrl) reportMissingPostgres('clustered event bus');

const modes: { name: string; skip: boolean; transport: (channel: string) => BusTransport }[] = [
  {
    name: 'Redis pub/sub',
    skip: !redis,
    transport: (channel) => new RedisBusTransport({ url: redis!.url, channel }),
  },
  {
    name: 'PostgreSQL LISTEN/NOTIFY',
    skip: !pgUrl,
    transport: (channel) => new PostgresBusTransport({ url: pgUrl!, channel }),
  },
];

/** Resolves with the first `count` messages a listener receives on `topic`. */
function collect(bus: ClusteredEventBus, topic: string, count: number): Promise<BusMessage[]> {
  const received: BusMessage[] = [];
  return new Promise((resolve) => {
    const stop = bus.subscribe(topic, (message) => {
      received.push(message);
      if (received.length === count) {
        stop();
        resolve(received);
      }
    });
  });
}

let channelSeq = 0;

for (const mode of modes) {
  describe.skipIf(mode.skip)(`ClusteredEventBus over ${mode.name}`, () => {
    let a: ClusteredEventBus;
    let b: ClusteredEventBus;

    beforeAll(async () => {
      const channel = `bus_test_${process.pid}_${++channelSeq}`;
      a = new ClusteredEventBus(mode.transport(channel));
      b = new ClusteredEventBus(mode.transport(channel));
      await a.onModuleInit();
      await b.onModuleInit();
    });

    afterAll(async () => {
      await a?.onModuleDestroy();
      await b?.onModuleDestroy();
    });

    it('delivers to the other instance in publish order, and once to the sender', async () => {
      const onB = collect(b, 'session:x', 200);
      const onA: BusMessage[] = [];
      const stopA = a.subscribe('session:x', (m) => onA.push(m));
      for (let seq = 1; seq <= 200; seq++) {
        a.publish('session:x', { method: 'session.event', params: { seq } });
      }
      // Local delivery is synchronous.
      expect(onA.map((m) => m.params.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      const received = await onB;
      expect(received.map((m) => m.params.seq)).toEqual(onA.map((m) => m.params.seq));
      // A's own envelopes came back through the transport and were ignored: still 200.
      const marker = collect(a, 'session:x', 1);
      b.publish('session:x', { method: 'marker', params: {} });
      expect((await marker)[0].method).toBe('marker');
      expect(onA).toHaveLength(201);
      stopA();
    });

    it('carries a message far over the NOTIFY payload limit intact', async () => {
      const text = 'big ✓ '.repeat(40_000);
      const onB = collect(b, 'session:big', 2);
      a.publish('session:big', { method: 'session.delta', params: { delta: text } });
      a.publish('session:big', { method: 'session.delta', params: { delta: 'after' } });
      const [first, second] = await onB;
      expect(first.params.delta).toBe(text);
      expect(second.params.delta).toBe('after');
    });
  });
}

describe.skipIf(!redis?.controllable)('ClusteredEventBus over Redis, through an outage', () => {
  it('asks subscribers to resync after Redis comes back, and carries messages again', async () => {
    const server = redis as TestRedis;
    const channel = `bus_outage_${process.pid}`;
    const a = new ClusteredEventBus(new RedisBusTransport({ url: server.url, channel }));
    const b = new ClusteredEventBus(new RedisBusTransport({ url: server.url, channel }));
    await a.onModuleInit();
    await b.onModuleInit();
    try {
      const resynced = new Promise<void>((resolve) => b.onResync(resolve));
      await server.stop();
      // Publishing during the outage neither throws nor queues.
      a.publish('t', { method: 'lost', params: {} });
      await server.start();
      await resynced;
      // Both connections are back once the subscriber is; wait for the publisher too.
      const deadline = Date.now() + 5000;
      while (!a.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const onB = collect(b, 't', 1);
      a.publish('t', { method: 'after', params: {} });
      expect((await onB)[0].method).toBe('after');
    } finally {
      await a.onModuleDestroy();
      await b.onModuleDestroy();
    }
  });
});

describe('ClusteredEventBus over Redis that is down at boot', () => {
  it('starts anyway, reports itself disconnected, and neither throws nor queues on publish', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const bus = new ClusteredEventBus(new RedisBusTransport({ url, channel: 'down' }));
    const startedAt = Date.now();
    await bus.onModuleInit();
    expect(Date.now() - startedAt).toBeLessThan(5000);
    expect(bus.connected).toBe(false);
    const local: BusMessage[] = [];
    bus.subscribe('t', (message) => local.push(message));
    bus.publish('t', { method: 'm', params: {} });
    // Local listeners still get it, synchronously.
    expect(local).toHaveLength(1);
    await bus.onModuleDestroy();
  });
});
