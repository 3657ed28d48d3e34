import type { Caller } from '../identity/caller.js';
import type { InFlightCalls } from './in-flight-calls.js';

/** A client connection that can receive server notifications (a WebSocket today). */
export interface RpcConnection {
  readonly id: string;
  /** The caller authenticated when the connection was opened. */
  caller?: Caller;
  /**
   * Receive notifications published to this topic from now on. With `givenUpTo`, the client
   * already has the topic's sequenced notifications (a numeric `params.seq`) up to that seq, from
   * a read of the log: those published late (a commit is readable before it is published) are
   * not sent again, until one beyond it passes.
   */
  subscribe(topic: string, givenUpTo?: number): void;
  unsubscribe(topic: string): void;
  /**
   * Sends a notification; false when the connection is closed, was closed for being slow, or its
   * token has expired (it is then closed with 4001).
   */
  notify(method: string, params: Record<string, unknown>): boolean;
  /** Closes the connection once the reply to the current frame is sent (an expired token). */
  closeAfterReply?(code: number, reason: string): void;
  /** Its calls in flight by id, which `$/cancelRequest` cancels; absent where none can be. */
  readonly calls?: InFlightCalls;
}
