/** A notification as it travels on the bus: what WebSocket subscribers of the topic receive. */
export interface BusMessage {
  method: string;
  params: Record<string, unknown>;
}

export type BusListener = (message: BusMessage, topic: string) => void;

/** Subscribe to this topic to receive every message, whatever its topic. */
export const ALL_TOPICS = '*';

/**
 * Carries notifications between the code that produces them and the connections that listen.
 * In process today; a Redis implementation can carry them between gateway instances, so
 * producers publish here and never to sockets directly.
 */
export interface EventBus {
  publish(topic: string, message: BusMessage): void;
  /** Listens to one topic (or ALL_TOPICS); returns the function that stops listening. */
  subscribe(topic: string, listener: BusListener): () => void;
}

export const EVENT_BUS = Symbol('openclaw:event-bus');
