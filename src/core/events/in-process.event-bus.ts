import { Injectable, Logger } from '@nestjs/common';
import { ALL_TOPICS, type BusListener, type BusMessage, type EventBus } from './event-bus.js';

/**
 * The single-instance bus: delivers synchronously, in publish order, to the listeners present
 * at publish time. Synchronous delivery lets a subscriber switch from buffering to live
 * delivery without a window in which a message could be lost or seen twice.
 */
@Injectable()
export class InProcessEventBus implements EventBus {
  private readonly logger = new Logger(InProcessEventBus.name);
  private readonly listeners = new Map<string, Set<BusListener>>();

  publish(topic: string, message: BusMessage): void {
    for (const key of [topic, ALL_TOPICS]) {
      const set = this.listeners.get(key);
      if (!set) continue;
      // A copy: a listener may unsubscribe (itself or another) while we iterate.
      for (const listener of [...set]) {
        try {
          listener(message, topic);
        } catch (err) {
          // One broken listener must not keep the message from the others.
          this.logger.error({ err, topic }, 'event listener failed');
        }
      }
    }
  }

  subscribe(topic: string, listener: BusListener): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    // A wrapper, so that the same function subscribed twice is two subscriptions.
    const entry: BusListener = (message, t) => listener(message, t);
    set.add(entry);
    return () => {
      set.delete(entry);
      if (set.size === 0 && this.listeners.get(topic) === set) this.listeners.delete(topic);
    };
  }

  listenerCount(topic: string): number {
    return this.listeners.get(topic)?.size ?? 0;
  }
}
