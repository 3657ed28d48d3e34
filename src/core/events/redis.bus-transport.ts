import { Logger } from '@nestjs/common';
import { OutageLog } from '../logging/outage.log.js';
import { Redis } from 'ioredis';
import type { BusTransport } from './bus-transport.js';

/** How long boot waits for Redis before going on without it (it connects when it can). */
const BOOT_WAIT_MS = 3000;

export interface RedisBusTransportOptions {
  url: string;
  /** The pub/sub channel every instance of one gateway shares. */
  channel?: string;
}

/**
 * Redis pub/sub between instances: one connection publishes (commands on one connection keep
 * their order), another subscribes. Publishing never queues while Redis is down (a late burst of
 * stale deltas helps nobody); stored events are healed from the log after the reconnect.
 */
export class RedisBusTransport implements BusTransport {
  readonly kind = 'redis';
  private readonly outage = new OutageLog(
    new Logger('EventBus'),
    'event bus (Redis)',
    'events are healed from the log',
  );
  private readonly channel: string;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;

  constructor(options: RedisBusTransportOptions) {
    this.channel = options.channel ?? 'openclaw:bus';
    const common = {
      lazyConnect: true,
      retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 2000),
    };
    this.publisher = new Redis(options.url, {
      ...common,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    // A subscriber must queue its SUBSCRIBE until connected, and re-subscribes by itself.
    this.subscriber = new Redis(options.url, { ...common, autoResubscribe: true });
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', (err: Error) => this.failed(err));
    }
  }

  get connected(): boolean {
    return this.publisher.status === 'ready' && this.subscriber.status === 'ready';
  }

  async start(receive: (envelope: string) => void, onResync: () => void): Promise<void> {
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) receive(message);
    });
    let first = true;
    this.subscriber.on('ready', () => {
      if (first) {
        first = false;
        return;
      }
      this.recovered();
      onResync();
    });
    // Redis down at boot is an outage like any other: the gateway starts, /health/ready says
    // so, and the clients connect (and the queued SUBSCRIBE runs) when it comes back.
    const connecting = Promise.allSettled([this.publisher.connect(), this.subscriber.connect()]);
    await Promise.race([connecting, new Promise((resolve) => setTimeout(resolve, BOOT_WAIT_MS))]);
    const subscribed = this.subscriber.subscribe(this.channel);
    if (this.subscriber.status === 'ready') await subscribed;
    else subscribed.catch((err: Error) => this.failed(err));
  }

  send(envelope: string): void {
    if (this.publisher.status !== 'ready') return;
    this.publisher.publish(this.channel, envelope).then(
      () => this.recovered(),
      (err: Error) => this.failed(err),
    );
  }

  async close(): Promise<void> {
    this.publisher.disconnect();
    this.subscriber.disconnect();
    return Promise.resolve();
  }

  private failed(err: Error): void {
    this.outage.failed(err);
  }

  private recovered(): void {
    this.outage.recovered();
  }
}
