import { describe, expect, it } from 'vitest';
import { ALL_TOPICS, type BusMessage } from './event-bus.js';
import { InProcessEventBus } from './in-process.event-bus.js';

const message = (n: number): BusMessage => ({ method: 'test', params: { n } });

describe('InProcessEventBus', () => {
  it("delivers to the topic's listeners, then to every-topic listeners, in order", () => {
    const bus = new InProcessEventBus();
    const seen: string[] = [];
    bus.subscribe(ALL_TOPICS, (m, topic) => seen.push(`all:${topic}:${String(m.params.n)}`));
    bus.subscribe('a', (m) => seen.push(`a1:${String(m.params.n)}`));
    bus.subscribe('a', (m) => seen.push(`a2:${String(m.params.n)}`));
    bus.publish('a', message(1));
    bus.publish('b', message(2));
    expect(seen).toEqual(['a1:1', 'a2:1', 'all:a:1', 'all:b:2']);
  });

  it('delivers only to the listeners present at publish time, one listener or several', () => {
    for (const listeners of [1, 2]) {
      const bus = new InProcessEventBus();
      const late: number[] = [];
      for (let i = 0; i < listeners; i++) {
        bus.subscribe('t', (m) => {
          if (m.params.n === 1) bus.subscribe('t', (later) => late.push(later.params.n as number));
        });
      }
      bus.publish('t', message(1));
      expect(late).toEqual([]);
      bus.publish('t', message(2));
      expect(late).toEqual(Array.from({ length: listeners }, () => 2));
    }
  });

  it('keeps delivering past a listener that throws or unsubscribes another', () => {
    const bus = new InProcessEventBus();
    const seen: string[] = [];
    let stopThird: () => void = () => undefined;
    bus.subscribe('t', () => {
      stopThird();
      throw new Error('broken listener');
    });
    bus.subscribe('t', () => seen.push('second'));
    stopThird = bus.subscribe('t', () => seen.push('third'));
    bus.publish('t', message(1));
    expect(seen).toEqual(['second', 'third']);
    expect(bus.listenerCount('t')).toBe(2);
  });
});
