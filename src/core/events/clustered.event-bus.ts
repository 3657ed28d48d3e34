import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { BusTransport } from './bus-transport.js';
import type {
  BusListener,
  BusMessage,
  EventBus,
  MessageDelivery,
  MessageInterceptor,
} from './event-bus.js';
import { InProcessEventBus } from './in-process.event-bus.js';

/** What travels between instances: the sender, the topic and the message. */
interface Envelope {
  o: string;
  t: string;
  m: BusMessage;
}

/**
 * The bus of several instances. A message is sent through the transport to the others, which
 * deliver it to their listeners, and delivered to this instance's at once and synchronously (the
 * in-process guarantees hold locally) unless an interceptor of its topic holds it back to restore
 * an order that several publishers can break. An instance ignores its own envelopes coming back.
 */
export class ClusteredEventBus implements EventBus, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('EventBus');
  private readonly local = new InProcessEventBus();
  private readonly origin = randomUUID();
  /** How this instance's envelopes begin (JSON.stringify keeps key order): its own come back too. */
  private readonly ownPrefix = `{"o":${JSON.stringify(this.origin)},`;
  private readonly resyncListeners = new Set<() => void>();
  private readonly interceptors: { prefix: string; handler: MessageInterceptor }[] = [];
  private readonly deliver: MessageDelivery = (topic, message) =>
    this.local.publish(topic, message);

  constructor(private readonly transport: BusTransport) {}

  get kind(): string {
    return this.transport.kind;
  }

  get connected(): boolean {
    return this.transport.connected;
  }

  async onModuleInit(): Promise<void> {
    await this.transport.start(
      (envelope) => this.receive(envelope),
      () => this.resync(),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.transport.close();
  }

  publish(topic: string, message: BusMessage): void {
    const envelope: Envelope = { o: this.origin, t: topic, m: message };
    this.transport.send(JSON.stringify(envelope));
    this.route(topic, message);
  }

  subscribe(topic: string, listener: BusListener): () => void {
    return this.local.subscribe(topic, listener);
  }

  onResync(listener: () => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  intercept(prefix: string, handler: MessageInterceptor): MessageDelivery {
    this.interceptors.push({ prefix, handler });
    return this.deliver;
  }

  private receive(text: string): void {
    // Every envelope sent comes back to its sender (LISTEN/NOTIFY, pub/sub): not parsed again.
    if (text.startsWith(this.ownPrefix)) return;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      this.logger.warn('dropped a malformed bus envelope');
      return;
    }
    if (envelope.o === this.origin || typeof envelope.t !== 'string' || !envelope.m) return;
    this.route(envelope.t, envelope.m);
  }

  /** To this instance's listeners, through the topic's interceptor when it has one. */
  private route(topic: string, message: BusMessage): void {
    const interceptor = this.interceptors.find(({ prefix }) => topic.startsWith(prefix));
    if (interceptor) interceptor.handler(topic, message, this.deliver);
    else this.local.publish(topic, message);
  }

  private resync(): void {
    for (const listener of [...this.resyncListeners]) {
      try {
        listener();
      } catch (err) {
        this.logger.error({ err }, 'bus resync listener failed');
      }
    }
  }
}
