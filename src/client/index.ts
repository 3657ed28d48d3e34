// The client library (`openclaw-gateway/client`): runs in browsers and in Node >= 20.19, with no
// server dependency. Types are the server's own, imported as types only.
export { createClient, GatewayClient } from './gateway.client.js';
export type { AgentApi, SessionApi, ToolsApi } from './gateway.client.js';
export type { ClientOptions } from './client.options.js';
export type { TokenOptions } from './token.source.js';
export type {
  ApprovalNotification,
  BatchResult,
  CallOptions,
  ConnectionState,
  GatewayMethod,
  GatewayMethods,
  OpenRpcDocument,
  ParamsOf,
  ResultOf,
  SessionDeltaItem,
  SessionEventItem,
  TurnItem,
  TurnReplyItem,
} from './client.types.js';
export type { BatchBuilder, BatchCall } from './batch.builder.js';
export type { FollowOptions, SessionFollow } from './session.follow.js';
export type { TurnStreamOptions } from './session-turn.stream.js';
export type { WebSocketConstructor, WebSocketLike } from './web-socket.js';
export { RpcError, type ParamsViolation, type RpcErrorKind } from './rpc.error.js';
export { ConnectionError } from './connection.error.js';
export { TokenRequestError } from './token-request.error.js';
export { RpcErrorCode } from '../core/rpc/rpc-error-code.js';
export type { AgentInfo, AgentStatus, AgentStatusInput } from '../agents/agent.types.js';
export type {
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
export type {
  ToolApprovalDecided,
  ToolApprovalDecision,
  ToolApprovalRequest,
  ToolApproveInput,
  ToolApproveResult,
} from '../sessions/tool-approval.types.js';
export type {
  ToolContent,
  ToolDescriptor,
  ToolResult,
  ToolsExecuteInput,
  ToolsListInput,
} from '../tools/tool.types.js';
