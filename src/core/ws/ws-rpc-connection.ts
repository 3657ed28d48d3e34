import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Caller } from '../auth/caller.js';
import type { RpcConnection } from '../rpc/rpc-connection.js';

/** Close codes the gateway uses beyond the RFC's. */
export const WsCloseCode = {
  GoingAway: 1001,
  PolicyViolation: 1008,
  TooBig: 1009,
  Unauthenticated: 4001,
} as const;

/** One WebSocket client: its subscriptions, its send-buffer cap and its in-flight budget. */
export class WsRpcConnection implements RpcConnection {
  readonly id = randomUUID();
  readonly topics = new Set<string>();
  readonly controller = new AbortController();
  caller?: Caller;
  inFlight = 0;
  /** Frames read but not yet started because the connection is at its in-flight bound. */
  readonly pending: string[] = [];
  /** A turn of the event loop is booked to start pending frames. */
  pendingScheduled = false;
  /** Set by closeAfterReply: the gateway closes with it after sending the current reply. */
  closing?: { code: number; reason: string };

  constructor(
    readonly socket: WebSocket,
    readonly ip: string,
    readonly headers: Record<string, string | string[] | undefined>,
    private readonly maxBufferedBytes: number,
    private readonly onTopicChange: (
      connection: WsRpcConnection,
      topic: string,
      on: boolean,
    ) => void,
  ) {}

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  subscribe(topic: string): void {
    if (this.topics.has(topic)) return;
    this.topics.add(topic);
    this.onTopicChange(this, topic, true);
  }

  unsubscribe(topic: string): void {
    if (!this.topics.delete(topic)) return;
    this.onTopicChange(this, topic, false);
  }

  notify(method: string, params: Record<string, unknown>): boolean {
    return this.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  /**
   * Sends a frame unless the peer is not reading: a connection whose unsent data passes the cap
   * is closed, so one slow consumer cannot hold the gateway's memory.
   */
  send(frame: string): boolean {
    if (!this.isOpen) return false;
    if (this.socket.bufferedAmount + frame.length > this.maxBufferedBytes) {
      this.close(WsCloseCode.PolicyViolation, 'send buffer overflow: the client is not reading');
      // A peer that does not read will not read a close frame either.
      this.socket.terminate();
      return false;
    }
    this.socket.send(frame);
    return true;
  }

  closeAfterReply(code: number, reason: string): void {
    this.closing ??= { code, reason };
  }

  close(code: number, reason: string): void {
    if (this.isOpen) this.socket.close(code, reason);
  }
}
