import type { JsonRpcResponse } from '../core/rpc/json-rpc.types.js';
import { RpcErrorCode } from '../core/rpc/rpc-error-code.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { ConnectionState } from './client.types.js';
import { ConnectionError } from './connection.error.js';
import { RpcError } from './rpc.error.js';
import {
  isResponse,
  outcomeOf,
  type CallOutcome,
  type OutgoingCall,
  type RpcTransport,
} from './rpc.transport.js';
import type { TokenSource } from './token.source.js';
import { resolveWebSocket, type WebSocketConstructor } from './web-socket.js';
import { WsCallBook } from './ws-call.book.js';
import { WsConnection } from './ws.connection.js';

/** The gateway closes a socket with 4001 when its token expires. */
const CLOSE_TOKEN_EXPIRED = 4001;
/** setTimeout holds at most 2^31-1 ms; longer waits are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface WsTransportOptions {
  url: string;
  tokens: TokenSource;
  webSocket?: WebSocketConstructor;
  backoff: BackoffOptions;
}

export type NotificationListener = (method: string, params: Record<string, unknown>) => void;

/**
 * JSON-RPC over one WebSocket at a time. It opens on first use, reconnects by itself with
 * backoff and jitter, re-sends the calls that are safe to repeat, and tells its listeners each
 * time a connection opens (followed sessions resume then). Before the token expires it opens a
 * connection with a new one and moves to it; the old one closes once its calls are answered.
 */
export class WsTransport implements RpcTransport {
  readonly kind = 'ws';
  private current?: WsConnection;
  private readonly retiring = new Set<WsConnection>();
  // A call aborted after it was sent is cancelled on the socket that carries it.
  private readonly calls = new WsCallBook((id) => this.cancelSent(id));
  private attempt = 0;
  private failedOpens = 0;
  private opening = false;
  private rotating = false;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private tokenTimer?: ReturnType<typeof setTimeout>;
  private stateValue: ConnectionState = 'idle';
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private readonly notificationListeners = new Set<NotificationListener>();
  private readonly openListeners = new Set<() => void>();
  private waiters: Array<{ resolve(): void; reject(error: Error): void }> = [];

  constructor(private readonly options: WsTransportOptions) {}

  get state(): ConnectionState {
    return this.stateValue;
  }

  connect(): Promise<void> {
    if (this.stateValue === 'open') return Promise.resolve();
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    const waiting = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.ensureConnecting();
    return waiting;
  }

  call(call: OutgoingCall): Promise<unknown> {
    return this.enqueue([call], false)[0].then((outcome) => {
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    });
  }

  batch(calls: OutgoingCall[]): Promise<CallOutcome[]> {
    return Promise.all(this.enqueue(calls, true));
  }

  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onNotification(listener: NotificationListener): () => void {
    this.notificationListeners.add(listener);
    return () => this.notificationListeners.delete(listener);
  }

  /** Called each time a connection opens (the first, after a drop, after a token rotation). */
  onOpen(listener: () => void): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }

  close(): void {
    if (this.stateValue === 'closed') return;
    this.stop('closed', new ConnectionError('The client is closed'));
  }

  private refusal(): Error | undefined {
    if (this.stateValue === 'closed') return new ConnectionError('The client is closed');
    if (this.stateValue === 'expired') {
      return new RpcError(RpcErrorCode.Unauthenticated, 'Token expired');
    }
    return undefined;
  }

  private enqueue(calls: OutgoingCall[], batch: boolean): Array<Promise<CallOutcome>> {
    const refusal = this.refusal();
    if (refusal) return calls.map(() => Promise.resolve({ ok: false, error: refusal }));
    const outcomes = this.calls.add(calls, batch);
    if (this.current?.isOpen) this.flush();
    else this.ensureConnecting();
    return outcomes;
  }

  /** Sends the waiting calls on the current connection. */
  private flush(): void {
    const connection = this.current;
    if (!connection?.isOpen || this.calls.queued === 0) return;
    for (const { frame, ids, batch } of this.calls.takeFrames()) connection.send(frame, ids, batch);
  }

  private cancelSent(id: number): void {
    this.current?.cancel(id);
    for (const connection of this.retiring) {
      connection.cancel(id);
      this.closeIfIdle(connection);
    }
  }

  private ensureConnecting(): void {
    if (this.opening || this.current || this.reconnectTimer !== undefined || this.refusal()) return;
    this.setState(this.stateValue === 'idle' ? 'connecting' : this.stateValue);
    void this.open();
  }

  /** Opens a connection; adopts it when it opens, or schedules the next attempt. */
  private async open(rotation = false): Promise<void> {
    if (rotation ? this.rotating : this.opening) return;
    if (rotation) this.rotating = true;
    else this.opening = true;
    try {
      const token = rotation
        ? await this.options.tokens.refresh()
        : await this.options.tokens.get();
      const WebSocketImpl = await resolveWebSocket(this.options.webSocket);
      if (this.refusal()) return;
      const connection = new WsConnection(
        new WebSocketImpl(this.options.url, ['openclaw.v1', `bearer.${token}`]),
        {
          onText: (from, text) => this.receive(from, text),
          onClose: (from, code) => this.dropped(from, code),
        },
      );
      try {
        await connection.opened;
      } catch {
        // Two refused upgrades in a row: the token may be what is refused, get a new one.
        if (++this.failedOpens >= 2) this.options.tokens.invalidate();
        throw new ConnectionError('The WebSocket could not be opened');
      }
      if (this.refusal()) return connection.close(1000, 'client closed');
      this.adopt(connection);
    } catch (error) {
      if (this.refusal()) return;
      if (error instanceof RpcError && error.is(RpcErrorCode.Unauthenticated)) {
        return this.stop('expired', error);
      }
      if (rotation) {
        // The current connection still works: try again later, or reconnect when it is cut.
        this.armTokenTimer(Date.now() + backoffDelay(this.attempt++, this.options.backoff));
      } else {
        this.scheduleReconnect();
      }
    } finally {
      if (rotation) this.rotating = false;
      else this.opening = false;
    }
  }

  private adopt(connection: WsConnection): void {
    const previous = this.current;
    this.current = connection;
    this.attempt = 0;
    this.failedOpens = 0;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (previous) {
      this.retiring.add(previous);
      this.closeIfIdle(previous);
    }
    this.armTokenTimer();
    this.setState('open');
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((waiter) => waiter.resolve());
    // Listeners resume followed sessions first: their history calls go out before the re-sent
    // calls, so a re-sent message cannot bring live events ahead of the history they follow.
    this.openListeners.forEach((listener) => listener());
    this.flush();
  }

  private scheduleReconnect(): void {
    this.setState('reconnecting');
    const delay = backoffDelay(this.attempt++, this.options.backoff);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.open();
    }, delay);
  }

  /** A socket closed: its unanswered calls are re-sent or fail, and a lost current one is replaced. */
  private dropped(connection: WsConnection, code: number): void {
    if (connection === this.current) this.current = undefined;
    else if (!this.retiring.delete(connection)) return;
    for (const id of connection.unanswered) {
      const record = this.calls.get(id);
      if (!record) continue;
      if (record.call.retry) this.calls.requeue(record);
      else {
        this.calls.settle(id, {
          ok: false,
          error: new ConnectionError('The connection closed before the reply'),
        });
      }
    }
    if (this.refusal()) return;
    if (this.current) return this.flush();
    if (code === CLOSE_TOKEN_EXPIRED) {
      if (!this.options.tokens.refreshable) {
        return this.stop('expired', new RpcError(RpcErrorCode.Unauthenticated, 'Token expired'));
      }
      this.options.tokens.invalidate();
    }
    this.setState('reconnecting');
    if (!this.opening) this.scheduleReconnect();
  }

  private receive(connection: WsConnection, text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return;
    }
    const items = Array.isArray(parsed) ? (parsed as unknown[]) : [parsed];
    for (const item of items) {
      if (typeof item !== 'object' || item === null) continue;
      const message = item as { method?: unknown; params?: unknown; id?: unknown };
      if (typeof message.method === 'string' && message.id === undefined) {
        const params = (message.params ?? {}) as Record<string, unknown>;
        this.notificationListeners.forEach((listener) =>
          listener(message.method as string, params),
        );
        continue;
      }
      if (isResponse(item)) this.answer(connection, item);
    }
    this.closeIfIdle(connection);
  }

  private answer(connection: WsConnection, response: JsonRpcResponse): void {
    if (typeof response.id === 'number' && this.calls.has(response.id)) {
      connection.answered(response.id);
      this.calls.settle(response.id, outcomeOf(response));
      return;
    }
    // A batch refused whole (-32600: too large) answers once, with id null.
    if (response.id === null && connection.batches.length > 0) {
      const ids = connection.batches[0];
      for (const id of ids) {
        connection.answered(id);
        this.calls.settle(id, outcomeOf(response));
      }
    }
  }

  private closeIfIdle(connection: WsConnection): void {
    if (this.retiring.has(connection) && connection.unanswered.size === 0) {
      this.retiring.delete(connection);
      connection.close(1000, 'token rotated');
    }
  }

  /** Plans the move to a new token: at its refresh time (or `at`), for tokens that can be renewed. */
  private armTokenTimer(at = this.options.tokens.refreshAt): void {
    clearTimeout(this.tokenTimer);
    this.tokenTimer = undefined;
    const deadline = this.options.tokens.refreshable ? at : this.options.tokens.expiresAt;
    if (deadline === undefined) return;
    const fire = (): void => {
      const left = deadline - Date.now();
      if (left > 0) {
        this.tokenTimer = setTimeout(fire, Math.min(left, MAX_TIMER_MS));
        return;
      }
      if (!this.options.tokens.refreshable) {
        this.stop('expired', new RpcError(RpcErrorCode.Unauthenticated, 'Token expired'));
      } else if (this.current) {
        void this.open(true);
      }
    };
    fire();
  }

  private stop(state: 'expired' | 'closed', error: Error): void {
    this.setState(state);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.tokenTimer);
    this.reconnectTimer = undefined;
    const connections = [this.current, ...this.retiring];
    this.current = undefined;
    this.retiring.clear();
    connections.forEach((connection) => connection?.close(1000, state));
    this.calls.settleAll(error);
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((waiter) => waiter.reject(error));
  }

  private setState(state: ConnectionState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.stateListeners.forEach((listener) => listener(state));
  }
}
