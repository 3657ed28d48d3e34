import { frameText, WS_OPEN, type WebSocketLike } from './web-socket.js';

export interface WsConnectionHandlers {
  onText(connection: WsConnection, text: string): void;
  onClose(connection: WsConnection, code: number, reason: string): void;
}

/** One socket: its opening, the ids of the calls sent on it and not yet answered, its close. */
export class WsConnection {
  readonly opened: Promise<void>;
  /** Ids of calls sent on this socket and not answered yet. */
  readonly unanswered = new Set<number>();
  /** Ids of each batch frame sent, oldest first (for a batch refused whole, with id null). */
  readonly batches: number[][] = [];
  private closed = false;

  constructor(
    private readonly socket: WebSocketLike,
    handlers: WsConnectionHandlers,
  ) {
    this.opened = new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => undefined;
      socket.onmessage = (event) => handlers.onText(this, frameText(event.data));
      socket.onclose = (event) => {
        this.closed = true;
        reject(new Error(`The WebSocket closed (${event.code}) before it opened`));
        handlers.onClose(this, event.code, event.reason);
      };
    });
    // Nobody may await `opened` once the socket is adopted; its rejection is not an error then.
    this.opened.catch(() => undefined);
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === WS_OPEN;
  }

  send(frame: string, ids: number[], batch: boolean): void {
    for (const id of ids) this.unanswered.add(id);
    if (batch) this.batches.push(ids);
    this.socket.send(frame);
  }

  /** Tells the gateway to stop a call sent here (`$/cancelRequest`); it is answered already. */
  cancel(id: number): void {
    if (!this.unanswered.has(id)) return;
    this.answered(id);
    if (this.isOpen) {
      this.socket.send(
        JSON.stringify({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id } }),
      );
    }
  }

  /** Marks a call answered; forgets batches with nothing left to answer. */
  answered(id: number): void {
    this.unanswered.delete(id);
    while (this.batches.length > 0 && this.batches[0].every((i) => !this.unanswered.has(i))) {
      this.batches.shift();
    }
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    try {
      this.socket.close(code, reason);
    } catch {
      // Closing a socket still connecting throws in some implementations; it is dropped anyway.
    }
  }
}
