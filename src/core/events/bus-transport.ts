/**
 * How a clustered bus reaches the other gateway instances: one shared channel that every instance
 * sends envelopes to and receives every envelope from (its own included). Envelopes sent from one
 * instance arrive everywhere in the order they were sent; nothing more is promised, so receivers
 * of stored events heal gaps from the event log.
 */
export interface BusTransport {
  /** A name for logs and /status: `redis` or `postgres`. */
  readonly kind: string;
  /** Starts receiving. `onResync` runs after a reconnect, when envelopes may have been missed. */
  start(receive: (envelope: string) => void, onResync: () => void): Promise<void>;
  /** Sends one envelope; never throws (an outage is logged and healed by receivers). */
  send(envelope: string): void;
  /** True while the transport can send and receive. */
  readonly connected: boolean;
  close(): Promise<void>;
}
