import type { AgentInfo, AgentStatus, AgentStatusInput } from '../agents/agent.types.js';
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
  ToolApprovalDecided,
  ToolApprovalRequest,
  ToolApproveInput,
  ToolApproveResult,
} from '../sessions/tool-approval.types.js';
import type { RpcError } from './rpc.error.js';

/** The OpenRPC document `rpc.discover` answers (the fields the gateway fills). */
export interface OpenRpcDocument {
  openrpc: string;
  info: { title: string; version: string; description?: string };
  servers?: Array<{ name: string; url: string }>;
  methods: Array<{
    name: string;
    summary?: string;
    paramStructure?: 'by-name';
    params: Array<{ name: string; required: boolean; schema: Record<string, unknown> }>;
    result: { name: string; schema: Record<string, unknown> };
    errors?: Array<{ code: number; message: string }>;
    'x-scope'?: string | null;
    'x-public'?: boolean;
  }>;
  components?: { schemas?: Record<string, Record<string, unknown>> };
}

/** The gateway's public methods: their params and results, the server's own types. */
export interface GatewayMethods {
  'session.create': { params: SessionCreateInput; result: SessionKeyResult };
  'session.message': { params: SessionMessageInput; result: AgentResponse };
  'session.history': { params: SessionHistoryInput; result: SessionEvent[] };
  'session.end': { params: SessionEndInput; result: { ok: true } };
  'session.cancel': { params: SessionCancelInput; result: SessionCancelResult };
  'agent.list': { params: Record<string, never>; result: AgentInfo[] };
  'agent.status': { params: AgentStatusInput; result: AgentStatus };
  'tools.list': { params: ToolsListInput; result: ToolDescriptor[] };
  'tools.execute': { params: ToolsExecuteInput; result: ToolResult };
  'tool.approve': { params: ToolApproveInput; result: ToolApproveResult };
  'tool.approvals.list': { params: Record<string, never>; result: ToolApprovalRequest[] };
  'rpc.discover': { params: Record<string, never>; result: OpenRpcDocument };
}

export type GatewayMethod = keyof GatewayMethods;

/** What a WebSocket whose token has `tools:approve` is told about approval requests. */
export type ApprovalNotification =
  | { method: 'approval.requested'; params: ToolApprovalRequest }
  | { method: 'approval.decided'; params: ToolApprovalDecided };
export type ParamsOf<M extends GatewayMethod> = GatewayMethods[M]['params'];
export type ResultOf<M extends GatewayMethod> = GatewayMethods[M]['result'];

/**
 * - `idle`: nothing opened yet (the first call or `connect()` opens the WebSocket);
 * - `connecting`, `open`;
 * - `reconnecting`: the connection dropped, calls wait, and followed sessions resume after it;
 * - `expired`: a fixed token expired (or was refused): the client stopped;
 * - `closed`: `close()` was called.
 * The HTTP transport is always `open` until closed.
 */
export type ConnectionState =
  'idle' | 'connecting' | 'open' | 'reconnecting' | 'expired' | 'closed';

/** A stored event of a session, as streams and follows yield it. */
export interface SessionEventItem extends SessionEvent {
  kind: 'event';
  sessionKey: string;
}

/** A piece of an answer being streamed (`session.delta`); deltas are not stored. */
export interface SessionDeltaItem {
  kind: 'delta';
  sessionKey: string;
  messageId: string;
  /** 0, 1, 2… within the message; an index may be missing after a reconnect, never repeated. */
  index: number;
  delta: string;
}

/** The agent's reply that ends a streamed turn (what `session.message` answers). */
export interface TurnReplyItem {
  kind: 'reply';
  sessionKey: string;
  response: AgentResponse;
}

export type TurnItem = SessionEventItem | SessionDeltaItem | TurnReplyItem;

/** One element of `batch()`'s answer: its result or its own error. */
export type BatchResult<R> = { ok: true; value: R } | { ok: false; error: RpcError | Error };

/** Per-call options. */
export interface CallOptions {
  /**
   * Stops waiting for the reply and cancels the call: over a WebSocket the gateway is sent
   * `$/cancelRequest` (a call already sent then stops, a session's turn included), over HTTP the
   * request is aborted (the gateway cancels a call whose client left).
   */
  signal?: AbortSignal;
}
