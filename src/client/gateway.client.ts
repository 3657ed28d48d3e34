import type { AgentInfo, AgentStatus } from '../agents/agent.types.js';
import type {
  AgentResponse,
  SessionCancelInput,
  SessionCancelResult,
  SessionCreateInput,
  SessionEndInput,
  SessionEvent,
  SessionHistoryInput,
  SessionKeyResult,
  SessionMessageInput,
} from '../sessions/session-api.types.js';
import type {
  ToolDescriptor,
  ToolResult,
  ToolsExecuteInput,
  ToolsListInput,
} from '../tools/tool.types.js';
import type {
  ToolApprovalRequest,
  ToolApproveInput,
  ToolApproveResult,
} from '../sessions/tool-approval.types.js';
import { batchBuilder, type BatchBuilder, type BatchCall } from './batch.builder.js';
import { gatewayEndpoints, type ClientOptions } from './client.options.js';
import type {
  ApprovalNotification,
  BatchResult,
  CallOptions,
  ConnectionState,
  GatewayMethod,
  OpenRpcDocument,
  ParamsOf,
  ResultOf,
  SessionDeltaItem,
  SessionEventItem,
  TurnItem,
} from './client.types.js';
import { HttpTransport } from './http.transport.js';
import { randomId } from './random-id.js';
import type { OutgoingCall, RpcTransport } from './rpc.transport.js';
import {
  followOverHttp,
  followOverWs,
  type FollowOptions,
  type SessionFollow,
} from './session.follow.js';
import { streamTurn, type TurnStreamOptions } from './session-turn.stream.js';
import { SessionTracker } from './session.tracker.js';
import { TokenSource } from './token.source.js';
import { WsTransport } from './ws.transport.js';

/** Methods that change nothing, or nothing more when repeated: re-sent after a reconnect. */
const REPEATABLE = new Set([
  'session.history',
  'session.end',
  'session.cancel',
  'agent.list',
  'agent.status',
  'tools.list',
  'rpc.discover',
]);

function repeatable(method: string, params: Record<string, unknown>): boolean {
  return (
    REPEATABLE.has(method) ||
    (method === 'session.message' && typeof params.idempotencyKey === 'string')
  );
}

export interface SessionApi {
  create(params?: SessionCreateInput, options?: CallOptions): Promise<SessionKeyResult>;
  /** Gets an idempotency key when it has none, so that a retry after a drop never runs it twice. */
  message(params: SessionMessageInput, options?: CallOptions): Promise<AgentResponse>;
  history(params: SessionHistoryInput, options?: CallOptions): Promise<SessionEvent[]>;
  end(params: SessionEndInput, options?: CallOptions): Promise<{ ok: true }>;
  /**
   * Stops the session's running turn, wherever it runs; `cancelled` is false when none ran. To
   * cancel one call of this client, pass a `signal` to it instead.
   */
  cancel(params: SessionCancelInput, options?: CallOptions): Promise<SessionCancelResult>;
  /**
   * Sends a message and yields the turn: deltas and stored events as they happen, then the
   * reply. Over HTTP only the reply is yielded.
   */
  stream(
    sessionKey: string,
    content: string,
    options?: TurnStreamOptions,
  ): AsyncIterableIterator<TurnItem>;
  /** Every stored event after `afterSeq`, then live ones; deltas too with `deltas: true`. */
  follow(sessionKey: string, options?: FollowOptions & { deltas?: false }): SessionFollow;
  follow(
    sessionKey: string,
    options: FollowOptions & { deltas: true },
  ): SessionFollow<SessionEventItem | SessionDeltaItem>;
}

export interface AgentApi {
  list(options?: CallOptions): Promise<AgentInfo[]>;
  status(params: { agentId: string }, options?: CallOptions): Promise<AgentStatus>;
}

export interface ToolsApi {
  list(params?: ToolsListInput, options?: CallOptions): Promise<ToolDescriptor[]>;
  execute(params: ToolsExecuteInput, options?: CallOptions): Promise<ToolResult>;
  /** Decides a tool call waiting for approval (scope `tools:approve`). */
  approve(params: ToolApproveInput, options?: CallOptions): Promise<ToolApproveResult>;
  /** The pending approval requests the caller may decide. */
  approvals(options?: CallOptions): Promise<ToolApprovalRequest[]>;
}

type BatchResults<T extends readonly BatchCall[]> = {
  [K in keyof T]: BatchResult<T[K] extends BatchCall<infer R> ? R : never>;
};

/** The gateway's JSON-RPC API, typed, over a WebSocket (default) or HTTP. */
export class GatewayClient {
  readonly session: SessionApi;
  readonly agent: AgentApi;
  readonly tools: ToolsApi;
  readonly rpc: { discover(options?: CallOptions): Promise<OpenRpcDocument> };
  private readonly transport: RpcTransport;
  private readonly tracker?: SessionTracker;
  private readonly approvalListeners = new Set<(note: ApprovalNotification) => void>();

  constructor(options: ClientOptions) {
    const endpoints = gatewayEndpoints(options.url);
    const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const tokens = new TokenSource(options, endpoints.token, fetchFn);
    if (options.transport === 'http') {
      this.transport = new HttpTransport(endpoints.rpc, tokens, fetchFn);
    } else {
      const ws = new WsTransport({
        url: endpoints.ws,
        tokens,
        webSocket: options.webSocket,
        backoff: {
          initialDelayMs: options.reconnect?.initialDelayMs ?? 250,
          maxDelayMs: options.reconnect?.maxDelayMs ?? 15_000,
        },
      });
      const tracker = new SessionTracker((call) => ws.call(call));
      ws.onNotification((method, params) => tracker.notification(method, params));
      ws.onNotification((method, params) => {
        if (method !== 'approval.requested' && method !== 'approval.decided') return;
        const note = { method, params } as unknown as ApprovalNotification;
        this.approvalListeners.forEach((listener) => listener(note));
      });
      ws.onOpen(() => tracker.resumeAll());
      this.transport = ws;
      this.tracker = tracker;
    }
    if (options.onStateChange) this.transport.onStateChange(options.onStateChange);

    const typed = <M extends GatewayMethod>(
      method: M,
      params: ParamsOf<M>,
      callOptions?: CallOptions,
    ) => this.call(method, params, callOptions);
    this.session = {
      create: (params = {}, o) => typed('session.create', params, o),
      message: (params, o) => typed('session.message', withKey(params), o),
      history: (params, o) => typed('session.history', params, o),
      end: (params, o) => typed('session.end', params, o),
      cancel: (params, o) => typed('session.cancel', params, o),
      stream: (sessionKey, content, o = {}) => this.stream(sessionKey, content, o),
      follow: ((sessionKey: string, o: FollowOptions = {}) =>
        this.follow(sessionKey, o)) as SessionApi['follow'],
    };
    this.agent = {
      list: (o) => typed('agent.list', {}, o),
      status: (params, o) => typed('agent.status', params, o),
    };
    this.tools = {
      list: (params = {}, o) => typed('tools.list', params, o),
      execute: (params, o) => typed('tools.execute', params, o),
      approve: (params, o) => typed('tool.approve', params, o),
      approvals: (o) => typed('tool.approvals.list', {}, o),
    };
    this.rpc = { discover: (o) => typed('rpc.discover', {}, o) };
  }

  get state(): ConnectionState {
    return this.transport.state;
  }

  /** Opens the connection now (otherwise the first call does); rejects when the token is refused. */
  connect(): Promise<void> {
    return this.transport.connect();
  }

  /** Closes the connection for good: waiting calls fail, follows and streams end. */
  close(): void {
    this.transport.close();
  }

  onStateChange(listener: (state: ConnectionState) => void): () => void {
    return this.transport.onStateChange(listener);
  }

  /**
   * Approval requests and decisions, live (WebSocket only, token with `tools:approve`); returns
   * the function that stops listening. Missed while disconnected: re-read `tools.approvals()`.
   */
  onApproval(listener: (note: ApprovalNotification) => void): () => void {
    this.approvalListeners.add(listener);
    return () => this.approvalListeners.delete(listener);
  }

  /** Calls a method by name: typed for the gateway's own, untyped for an extension's. */
  call<M extends GatewayMethod>(
    method: M,
    params: ParamsOf<M>,
    options?: CallOptions,
  ): Promise<ResultOf<M>>;
  call<R = unknown>(
    method: string,
    params?: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<R>;
  call(method: string, params: object = {}, options: CallOptions = {}): Promise<unknown> {
    return this.transport.call(outgoing(method, params as Record<string, unknown>, options.signal));
  }

  /**
   * Sends several calls in one request (one frame over a WebSocket); each answers on its own:
   * `const [agents, tools] = await client.batch((b) => [b.agent.list(), b.tools.list()])`.
   */
  async batch<const T extends readonly BatchCall[]>(
    build: (b: BatchBuilder) => T,
    options: CallOptions = {},
  ): Promise<BatchResults<T>> {
    const calls = build(batchBuilder);
    if (calls.length === 0) return [] as unknown as BatchResults<T>;
    const outcomes = await this.transport.batch(
      calls.map((c) => outgoing(c.method, c.params, options.signal)),
    );
    return outcomes.map((outcome) =>
      outcome.ok ? { ok: true, value: outcome.value } : { ok: false, error: outcome.error },
    ) as unknown as BatchResults<T>;
  }

  private stream(
    sessionKey: string,
    content: string,
    options: TurnStreamOptions,
  ): AsyncIterableIterator<TurnItem> {
    const idempotencyKey = options.idempotencyKey ?? randomId();
    if (this.tracker) {
      const call = (c: OutgoingCall): Promise<unknown> => this.transport.call(c);
      return streamTurn(this.tracker, call, sessionKey, content, idempotencyKey, options.signal);
    }
    const reply = this.session.message({ sessionKey, content, idempotencyKey }, options);
    // Sent now, like over a WebSocket; its failure is thrown to whoever iterates.
    reply.catch(() => undefined);
    return (async function* () {
      yield { kind: 'reply', sessionKey, response: await reply } satisfies TurnItem;
    })();
  }

  private follow(
    sessionKey: string,
    options: FollowOptions,
  ): SessionFollow<SessionEventItem | SessionDeltaItem> {
    const call = (c: OutgoingCall): Promise<unknown> => this.transport.call(c);
    return this.tracker
      ? followOverWs(this.tracker, call, sessionKey, options)
      : followOverHttp(call, sessionKey, options);
  }
}

function outgoing(
  method: string,
  params: Record<string, unknown>,
  signal?: AbortSignal,
): OutgoingCall {
  return { method, params, retry: repeatable(method, params), signal };
}

function withKey(params: SessionMessageInput): SessionMessageInput {
  return params.idempotencyKey === undefined ? { ...params, idempotencyKey: randomId() } : params;
}

/** A client of the gateway; see `ClientOptions`. */
export function createClient(options: ClientOptions): GatewayClient {
  return new GatewayClient(options);
}
