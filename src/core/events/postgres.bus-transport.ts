import { Logger } from '@nestjs/common';
import { OutageLog } from '../logging/outage.log.js';
import pg from 'pg';
import type { BusTransport } from './bus-transport.js';
import { NotifyChunks } from './notify-chunks.js';

export interface PostgresBusTransportOptions {
  url: string;
  /** The LISTEN/NOTIFY channel every instance of one gateway shares. */
  channel?: string;
}

/** NOTIFY payloads must be shorter than 8000 bytes; the rest goes in parts. */
const MAX_PAYLOAD_BYTES = 7900;
const RECONNECT_MAX_MS = 2000;
/** Envelopes waiting for the sending connection; beyond this the oldest are dropped. */
const MAX_QUEUED = 10_000;

/**
 * PostgreSQL LISTEN/NOTIFY between instances, for deployments without Redis. One connection
 * listens; another sends, one statement at a time, so envelopes commit (and are delivered) in the
 * order they were sent. An envelope over the payload limit is split into parts that go in one
 * statement and are put together again by the receivers.
 */
export class PostgresBusTransport implements BusTransport {
  readonly kind = 'postgres';
  private readonly outage = new OutageLog(
    new Logger('EventBus'),
    'event bus (PostgreSQL)',
    'events are healed from the log',
  );
  private readonly channel: string;
  private readonly chunks = new NotifyChunks();
  private listener?: pg.Client;
  private sender?: pg.Client;
  private senderReady?: Promise<pg.Client>;
  private queued: string[] = [];
  private flushing?: Promise<void>;
  private closed = false;
  private receive: (envelope: string) => void = () => {};
  private onResync: () => void = () => {};

  constructor(private readonly options: PostgresBusTransportOptions) {
    this.channel = options.channel ?? 'openclaw_bus';
  }

  get connected(): boolean {
    return this.listener !== undefined && !this.outage.down;
  }

  async start(receive: (envelope: string) => void, onResync: () => void): Promise<void> {
    this.receive = receive;
    this.onResync = onResync;
    await this.listen();
  }

  send(envelope: string): void {
    if (this.closed) return;
    const bytes = Buffer.byteLength(envelope);
    if (bytes <= MAX_PAYLOAD_BYTES) this.queued.push(envelope);
    else this.queued.push(...this.chunks.split(envelope));
    if (this.queued.length > MAX_QUEUED) {
      // The database is slower than the events: drop the oldest (receivers heal from the log).
      this.queued.splice(0, this.queued.length - MAX_QUEUED);
    }
    if (!this.flushing) this.flushing = this.flush();
  }

  /**
   * Sends what is queued, one statement at a time: everything queued while a statement runs goes
   * in the next one (one transaction, delivered together and in array order), so a burst of
   * deltas costs a few round trips, not one each, and envelopes arrive in the order sent. The
   * first statement waits for the end of the event loop's turn.
   */
  private async flush(): Promise<void> {
    // Let this turn of the event loop finish first, so that what it publishes (the events of the
    // turns whose appends committed together) shares the first statement.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queued.length > 0 && !this.closed) {
      const batch = this.queued;
      this.queued = [];
      try {
        const client = await this.connectSender();
        await client.query({
          name: 'openclaw_bus_notify',
          text: 'SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p',
          values: [this.channel, batch],
        });
        this.recovered();
      } catch (err) {
        this.failed(err as Error);
      }
    }
    this.flushing = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    const clients = [this.listener, this.sender].filter((c): c is pg.Client => c !== undefined);
    this.listener = undefined;
    this.sender = undefined;
    this.senderReady = undefined;
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }

  private async listen(attempt = 0): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.url });
    client.on('notification', (message) => {
      if (message.channel !== this.channel || message.payload === undefined) return;
      const envelope = this.chunks.accept(message.payload);
      if (envelope !== undefined) this.receive(envelope);
    });
    const lost = (err?: Error): void => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.failed(err ?? new Error('LISTEN connection ended'));
      void client.end().catch(() => undefined);
      this.reconnect(attempt + 1);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await client.connect();
    await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
    this.listener = client;
  }

  private reconnect(attempt: number): void {
    if (this.closed) return;
    const delay = Math.min(50 * 2 ** attempt, RECONNECT_MAX_MS);
    setTimeout(() => {
      if (this.closed) return;
      this.listen(attempt).then(
        () => {
          this.recovered();
          this.onResync();
        },
        (err: Error) => {
          this.failed(err);
          this.reconnect(attempt + 1);
        },
      );
    }, delay).unref();
  }

  /** One sending connection, opened on first use and again after it broke. */
  private connectSender(): Promise<pg.Client> {
    if (!this.senderReady) {
      const client = new pg.Client({ connectionString: this.options.url });
      const forget = (err?: Error): void => {
        if (this.sender !== client) return;
        this.sender = undefined;
        this.senderReady = undefined;
        if (err) this.failed(err);
      };
      client.on('error', forget);
      client.on('end', () => forget());
      this.sender = client;
      this.senderReady = client.connect().then(
        () => client,
        (err: Error) => {
          forget(err);
          throw err;
        },
      );
    }
    return this.senderReady;
  }

  private failed(err: Error): void {
    if (!this.closed) this.outage.failed(err);
  }

  private recovered(): void {
    if (this.listener !== undefined) this.outage.recovered();
  }
}
