import type { CallToolResult, Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import { assertUnreachable } from '../core/errors/assert-unreachable.js';
import { GatewayErrorCode } from '../core/errors/gateway-error-code.js';
import type { GatewayException } from '../core/errors/gateway.exception.js';
import { RpcErrorCode } from '../core/rpc/rpc-error-code.js';
import { ToolNotFoundException, type ToolArgumentViolation } from '../tools/tool.exception.js';
import type { ToolContent, ToolDescriptor, ToolResult } from '../tools/tool.types.js';

/** `_meta` keys (MCP's prefix/name form) for what the gateway knows beyond MCP's fields. */
export const SOURCE_META_KEY = 'openclaw/source';
export const DURATION_META_KEY = 'openclaw/durationMs';

/** A tools/call that did not produce a result: a result with isError, or a JSON-RPC error. */
export type McpCallFailure =
  | { kind: 'tool-error'; result: CallToolResult }
  | { kind: 'protocol-error'; code: number; message: string; data?: Record<string, unknown> };

/** A registry descriptor as MCP's Tool. */
export function toMcpTool(tool: ToolDescriptor): McpTool {
  const mcp: McpTool = {
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema,
    _meta: { [SOURCE_META_KEY]: tool.source },
  };
  if (tool.annotations) {
    mcp.annotations = { ...tool.annotations };
    if (tool.annotations.title !== undefined) mcp.title = tool.annotations.title;
  }
  // MCP allows only object output schemas, and a client validates the whole list at once: a
  // tool that declares another kind is listed without one rather than breaking the list.
  if (tool.outputSchema?.type === 'object') {
    mcp.outputSchema = tool.outputSchema as McpTool['outputSchema'];
  }
  return mcp;
}

/** The registry's result as MCP's CallToolResult; the duration travels in `_meta`. */
export function toCallToolResult(result: ToolResult): CallToolResult {
  return {
    content: result.content.map(toMcpContent),
    ...(result.structuredContent !== undefined
      ? { structuredContent: result.structuredContent }
      : {}),
    isError: result.isError,
    _meta: { [DURATION_META_KEY]: result.durationMs },
  };
}

/** MCP requires a resource link's `name`, which the gateway's blocks may leave out. */
function toMcpContent(block: ToolContent): CallToolResult['content'][number] {
  if (block.type === 'resource_link') return { ...block, name: block.name ?? block.uri };
  return block;
}

/**
 * The domain exceptions of a tools/call in MCP's terms, mapped here and nowhere else. What the
 * model can act on (bad arguments, a tool that failed or timed out) is a result with
 * `isError: true`, as MCP asks; an unknown tool and refusals are JSON-RPC errors.
 */
export function mapToolCallError(error: GatewayException): McpCallFailure {
  switch (error.code) {
    case GatewayErrorCode.INVALID_INPUT:
      return toolError(describeInvalidArguments(error));
    case GatewayErrorCode.TOOL_FAILED:
      return toolError(error.message);
    case GatewayErrorCode.NOT_FOUND:
      return error instanceof ToolNotFoundException
        ? protocolError(RpcErrorCode.InvalidParams, error)
        : toolError(error.message);
    case GatewayErrorCode.UNAUTHENTICATED:
      return protocolError(RpcErrorCode.Unauthenticated, error);
    case GatewayErrorCode.FORBIDDEN:
      return protocolError(RpcErrorCode.Forbidden, error);
    case GatewayErrorCode.RATE_LIMITED:
      return protocolError(RpcErrorCode.RateLimited, error);
    case GatewayErrorCode.CONFLICT:
      return protocolError(RpcErrorCode.Conflict, error);
    case GatewayErrorCode.AGENT_FAILED:
      return protocolError(RpcErrorCode.AgentFailed, error);
    case GatewayErrorCode.REQUEST_CANCELLED:
      return protocolError(RpcErrorCode.RequestCancelled, error);
    case GatewayErrorCode.BUDGET_EXCEEDED:
      return protocolError(RpcErrorCode.BudgetExceeded, error);
    default:
      return assertUnreachable(error.code);
  }
}

function toolError(text: string): McpCallFailure {
  return { kind: 'tool-error', result: { content: [{ type: 'text', text }], isError: true } };
}

function protocolError(code: RpcErrorCode, error: GatewayException): McpCallFailure {
  return { kind: 'protocol-error', code, message: error.message, data: error.data };
}

/** `Invalid arguments for tool "x": a.b: must be string; c: is required`: what to correct. */
function describeInvalidArguments(error: GatewayException): string {
  const violations = (error.data?.violations ?? []) as ToolArgumentViolation[];
  if (violations.length === 0) return error.message;
  const lines = violations.map((v) => `${v.path === '' ? '(arguments)' : v.path}: ${v.message}`);
  return `${error.message}: ${lines.join('; ')}`;
}
