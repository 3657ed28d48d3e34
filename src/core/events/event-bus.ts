/** A notification as it travels on the bus: what WebSocket subscribers of the topic receive. */
export interface BusMessage {
  method: string;
  params: Record<string, unknown>;
}

export type BusListener = (message: BusMessage, topic: string) => void;

/** Subscribe to this topic to receive every message, whatever its topic. */
export const ALL_TOPICS = '*';

/**
 * Carries notifications between the code that produces them and the connections that listen:
 * in process for one instance, or between instances through Redis pub/sub or PostgreSQL
 * LISTEN/NOTIFY. Producers publish here and never to sockets directly.
 */
export interface EventBus {
  /** Delivers to this instance's listeners synchronously, and to other instances' soon after. */
  publish(topic: string, message: BusMessage): void;
  /** Listens to one topic (or ALL_TOPICS); returns the function that stops listening. */
  subscribe(topic: string, listener: BusListener): () => void;
  /**
   * Runs `listener` whenever messages from other instances may have been lost (the bus
   * reconnected): stored events must then be re-read from the log. Absent on a one-instance bus.
   */
  onResync?(listener: () => void): () => void;
  /**
   * Hands every message on topics starting with `prefix`, this instance's and others', to
   * `handler` before this instance's listeners get it: the handler delivers (`deliver`) at once
   * or later, to order, heal or drop what several publishers sent. Absent on a one-instance bus,
   * whose messages are all published here, in order. Returns the delivering function, for
   * messages the interceptor produces itself.
   */
  intercept?(prefix: string, handler: MessageInterceptor): MessageDelivery;
}

/** Delivers a message to this instance's listeners of its topic. */
export type MessageDelivery = (topic: string, message: BusMessage) => void;

export type MessageInterceptor = (
  topic: string,
  message: BusMessage,
  deliver: MessageDelivery,
) => void;

export const EVENT_BUS = Symbol('openclaw:event-bus');
