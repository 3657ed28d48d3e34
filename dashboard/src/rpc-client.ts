/**
 * JSON-RPC 2.0 over the gateway's WebSocket: calls by id, server notifications, and a reconnect
 * with backoff that resumes every followed session from its last seq (no gap, no duplicate).
 */

/** The part of the WebSocket API the client uses: the browser's, or `ws` in Node tests. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketFactory = (url: string, protocols: string[]) => WebSocketLike;

export interface SessionEvent {
  seq: number;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

export interface SessionDelta {
  sessionKey: string;
  messageId: string;
  index: number;
  delta: string;
}

export interface SessionListener {
  onEvent(event: SessionEvent): void;
  onDelta?(delta: SessionDelta): void;
}

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'expired' | 'closed';

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export const NOT_AUTHENTICATED = -32001;
/** Client-side code for a call cut off by a lost connection (never sent by the gateway). */
export const CONNECTION_LOST = -32098;
const CLOSE_TOKEN_EXPIRED = 4001;
const HISTORY_PAGE = 100;

export interface RpcClientOptions {
  url: string;
  token: string;
  webSocket?: WebSocketFactory;
  /** First reconnect delay; doubles up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  onStateChange?(state: ConnectionState): void;
  /** Reconnects done (resume finished). */
  onResumed?(): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Followed {
  lastSeq: number;
  listeners: Set<SessionListener>;
  /** `messageId:index` of deltas already delivered. */
  deltas: Set<string>;
  /**
   * Live events that arrived while a history page was on its way: the server sends them after
   * the page, but a reply settles a promise (a microtask) while a frame read in the same chunk
   * is handled at once, so they could overtake it and hide the page's events as "seen".
   */
  held?: SessionEvent[];
}

const defaultWebSocket: WebSocketFactory = (url, protocols) =>
  new WebSocket(url, protocols) as unknown as WebSocketLike;

/** Seconds-since-epoch `exp` of a JWT, or undefined when it cannot be read. */
export function tokenExpiry(token: string): number | undefined {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}

export class RpcClient {
  private socket: WebSocketLike | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly sessions = new Map<string, Followed>();
  private readonly notificationListeners = new Set<(method: string, params: unknown) => void>();
  private waiters: Array<{ resolve(): void; reject(error: Error): void }> = [];
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  state: ConnectionState = 'connecting';

  constructor(private readonly options: RpcClientOptions) {}

  /** Opens the connection; resolves when it is open (rejects when the token is expired). */
  connect(): Promise<void> {
    this.stopped = false;
    this.armExpiryTimer();
    this.open();
    return this.whenOpen();
  }

  /** Closes for good: no reconnect; pending calls fail. */
  close(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.expiryTimer);
    this.socket?.close(1000, 'bye');
    this.socket = undefined;
    this.failAll(new RpcError(CONNECTION_LOST, 'Client closed'));
    this.setState('closed');
  }

  async call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    await this.whenOpen();
    return this.send<T>(method, params);
  }

  /** Listens to every server notification (`session.event`, `session.delta`, …). */
  onNotification(listener: (method: string, params: unknown) => void): () => void {
    this.notificationListeners.add(listener);
    return () => this.notificationListeners.delete(listener);
  }

  /**
   * Follows a session: loads its events after `afterSeq` (and subscribes this connection), then
   * delivers live events in seq order, each once, across reconnects.
   */
  async follow(sessionKey: string, listener: SessionListener, afterSeq = 0): Promise<() => void> {
    let followed = this.sessions.get(sessionKey);
    if (!followed) {
      followed = { lastSeq: afterSeq, listeners: new Set(), deltas: new Set() };
      this.sessions.set(sessionKey, followed);
    }
    followed.listeners.add(listener);
    await this.whenOpen();
    await this.catchUp(sessionKey, followed);
    return () => {
      followed.listeners.delete(listener);
      if (followed.listeners.size === 0) this.sessions.delete(sessionKey);
    };
  }

  lastSeq(sessionKey: string): number | undefined {
    return this.sessions.get(sessionKey)?.lastSeq;
  }

  private open(): void {
    const exp = tokenExpiry(this.options.token);
    if (exp !== undefined && exp * 1000 <= Date.now()) {
      this.expire();
      return;
    }
    this.setState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const factory = this.options.webSocket ?? defaultWebSocket;
    const socket = factory(this.options.url, ['openclaw.v1', `bearer.${this.options.token}`]);
    this.socket = socket;
    socket.onopen = () => {
      const resumed = this.attempt > 0;
      this.attempt = 0;
      this.setState('open');
      const waiters = this.waiters;
      this.waiters = [];
      waiters.forEach((waiter) => waiter.resolve());
      if (resumed) void this.resumeAll();
    };
    socket.onmessage = (event) => this.receive(String(event.data));
    socket.onerror = () => undefined;
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.failAll(new RpcError(CONNECTION_LOST, 'Connection lost'), false);
      if (event.code === CLOSE_TOKEN_EXPIRED) return this.expire();
      if (this.stopped || this.state === 'expired') return;
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    const initial = this.options.initialDelayMs ?? 500;
    const max = this.options.maxDelayMs ?? 15_000;
    const delay = Math.min(max, initial * 2 ** this.attempt);
    this.attempt += 1;
    this.setState('reconnecting');
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  private async resumeAll(): Promise<void> {
    try {
      for (const [sessionKey, followed] of this.sessions) await this.catchUp(sessionKey, followed);
      this.options.onResumed?.();
    } catch {
      // The connection dropped again mid-resume: the next open resumes from lastSeq.
    }
  }

  /**
   * Pages `session.history` from lastSeq to the end. Pages are capped by bytes as well as count,
   * so a short page is not the end: only an empty one is (the server resubscribes at the end).
   */
  private async catchUp(sessionKey: string, followed: Followed): Promise<void> {
    const held: SessionEvent[] = [];
    followed.held = held;
    try {
      for (;;) {
        const page = await this.send<SessionEvent[]>('session.history', {
          sessionKey,
          afterSeq: followed.lastSeq,
          limit: HISTORY_PAGE,
        });
        page.forEach((event) => this.deliver(sessionKey, event, true));
        if (page.length === 0) break;
      }
    } finally {
      if (followed.held === held) followed.held = undefined;
    }
    // Only after a complete catch-up: otherwise the next one reads them again from lastSeq.
    held.sort((a, b) => a.seq - b.seq).forEach((event) => this.deliver(sessionKey, event));
  }

  private deliver(sessionKey: string, event: SessionEvent, fromHistory = false): void {
    const followed = this.sessions.get(sessionKey);
    if (!followed) return;
    if (!fromHistory && followed.held) {
      followed.held.push(event);
      return;
    }
    if (event.seq <= followed.lastSeq) return;
    followed.lastSeq = event.seq;
    followed.listeners.forEach((listener) => listener.onEvent(event));
  }

  private send<T>(method: string, params: Record<string, unknown>): Promise<T> {
    const socket = this.socket;
    if (!socket || socket.readyState !== 1) {
      return Promise.reject(new RpcError(CONNECTION_LOST, 'Not connected'));
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: (value) => resolve(value as T), reject });
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  private receive(text: string): void {
    let message: {
      id?: number | null;
      method?: string;
      params?: unknown;
      result?: unknown;
      error?: { code: number; message: string; data?: unknown };
    };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (message.method) return this.notify(message.method, message.params);
    if (typeof message.id !== 'number') return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if (message.error) {
      const { code, message: text, data } = message.error;
      pending.reject(new RpcError(code, text, data));
      if (code === NOT_AUTHENTICATED) this.expire();
    } else {
      pending.resolve(message.result);
    }
  }

  private notify(method: string, params: unknown): void {
    if (method === 'session.event') {
      const { sessionKey, ...event } = params as SessionEvent & { sessionKey: string };
      this.deliver(sessionKey, event);
    } else if (method === 'session.delta') {
      const delta = params as SessionDelta;
      const followed = this.sessions.get(delta.sessionKey);
      const key = `${delta.messageId}:${delta.index}`;
      if (followed && !followed.deltas.has(key)) {
        followed.deltas.add(key);
        followed.listeners.forEach((listener) => listener.onDelta?.(delta));
      }
    }
    this.notificationListeners.forEach((listener) => listener(method, params));
  }

  private whenOpen(): Promise<void> {
    if (this.state === 'expired') {
      return Promise.reject(new RpcError(NOT_AUTHENTICATED, 'Token expired'));
    }
    if (this.socket?.readyState === 1 && this.state === 'open') return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private expire(): void {
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.expiryTimer);
    this.setState('expired');
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, 'token expired');
    this.failAll(new RpcError(NOT_AUTHENTICATED, 'Token expired'));
  }

  private armExpiryTimer(): void {
    const exp = tokenExpiry(this.options.token);
    if (exp === undefined) return;
    const ms = exp * 1000 - Date.now();
    // Beyond setTimeout's range the server's 4001 close tells us instead.
    if (ms > 0 && ms < 2 ** 31 - 1) this.expiryTimer = setTimeout(() => this.expire(), ms);
  }

  private failAll(error: Error, waitersToo = true): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    pending.forEach((call) => call.reject(error));
    if (waitersToo) {
      const waiters = this.waiters;
      this.waiters = [];
      waiters.forEach((waiter) => waiter.reject(error));
    }
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.options.onStateChange?.(state);
  }
}
