// The library's public API: everything an embedder or an extension module needs.
export { GatewayModule } from './gateway.module.js';
export { GatewayBuilder } from './gateway.builder.js';
export { createGatewayApp, configureGatewayApp, shutdownGatewayApp } from './gateway.factory.js';
export { listenGateway } from './serve.js';
export type {
  DashboardOption,
  GatewayModuleOptions,
  GatewayModuleAsyncOptions,
} from './gateway-module.options.js';
export type {
  DatabaseExtensionOptions,
  EntityClass,
  MigrationClass,
} from './core/database/database-extension.js';
export { runPendingMigrations } from './core/database/database.migrator.js';
export type { LoggingModuleOptions } from './core/logging/logging-module.options.js';
export { loadConfig, type GatewayConfigInput } from './core/config/config.loader.js';
export { GatewayConfig } from './core/config/gateway-config.js';
export { ConfigValidationError } from './core/config/config-validation.error.js';
export { RpcMethod, type RpcMethodOptions } from './core/rpc/rpc-method.decorator.js';
export { Public } from './core/identity/public.decorator.js';
export type { Caller } from './core/identity/caller.js';
export { getRpcCallContext, type RpcCallContext } from './core/rpc/rpc-call-context.js';
export type { RpcConnection } from './core/rpc/rpc-connection.js';
export type { RpcCallCheck, RpcMethodDescriptor, RpcPreparedGuard } from './core/rpc/rpc-guard.js';
export type { Violation } from './core/validation/violation.js';
export { ToolRunRecording } from './tools/tool-run.recording.js';
export { RpcException } from './core/rpc/rpc.exception.js';
export { RpcErrorCode } from './core/rpc/rpc-error-code.js';
export { GatewayException } from './core/errors/gateway.exception.js';
export { GatewayErrorCode } from './core/errors/gateway-error-code.js';
export { WsConnectionRegistry } from './core/ws/ws-connection.registry.js';
export type {
  Agent,
  AgentBudgets,
  AgentEvent,
  AgentInfo,
  AgentRunInput,
  AgentStatus,
  ConversationMessage,
  FinishReason,
  TokenBudget,
  ToolCall,
} from './agents/agent.types.js';
export { GatewayAgent } from './agents/agent.decorator.js';
export { AgentsModule } from './agents/agents.module.js';
export { AgentRegistry } from './agents/agent.registry.js';
export type {
  Tool,
  ToolDescriptor,
  ToolOutput,
  ToolResult,
  ToolExecutionContext,
} from './tools/tool.types.js';
export { GatewayTool } from './tools/tool.decorator.js';
export { ToolsModule } from './tools/tools.module.js';
export { ToolRegistry } from './tools/tool.registry.js';
export { SessionsModule } from './sessions/sessions.module.js';
export { SessionService } from './sessions/session.service.js';
export type {
  AgentResponse,
  SessionEvent,
  SessionKeyResult,
  SessionSummary,
} from './sessions/session-api.types.js';
export type { EventBus } from './core/events/event-bus.js';
export { LlmAgent } from './agents/llm.agent.js';
export { AgentConfig } from './agents/agent-config.js';
