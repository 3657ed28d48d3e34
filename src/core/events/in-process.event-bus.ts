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
    // Two plain lookups rather than a loop over [topic, ALL_TOPICS]: a turn publishes every
    // delta, mostly to one listener or none, and each publish's arrays were garbage.
    this.deliver(this.listeners.get(topic), topic, message);
    this.deliver(this.listeners.get(ALL_TOPICS), topic, message);
  }

  private deliver(set: Set<BusListener> | undefined, topic: string, message: BusMessage): void {
    if (set === undefined) return;
    if (set.size === 1) {
      this.call(set.values().next().value as BusListener, topic, message);
      return;
    }
    // A copy: a listener may subscribe or unsubscribe (itself or another) while we iterate.
    for (const listener of [...set]) this.call(listener, topic, message);
  }

  private call(listener: BusListener, topic: string, message: BusMessage): void {
    try {
      listener(message, topic);
    } catch (err) {
      // One broken listener must not keep the message from the others.
      this.logger.error({ err, topic }, 'event listener failed');
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
