import { Injectable, Logger, Optional } from '@nestjs/common';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { CallToolResult, ListToolsResult } from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'node:crypto';
import { hasScope, type Caller } from '../core/identity/caller.js';
import { GatewayException } from '../core/errors/gateway.exception.js';
import { RpcErrorCode } from '../core/rpc/rpc-error-code.js';
import { RpcStatsService } from '../core/rpc/rpc-stats.service.js';
import { TracingService } from '../core/tracing/tracing.service.js';
import { ToolRegistry } from '../tools/tool.registry.js';
import { McpProtocolError } from './mcp-protocol.error.js';
import type { McpSdk } from './mcp-sdk.loader.js';
import { callerFromAuthInfo, TOOLS_EXECUTE_SCOPE, TOOLS_READ_SCOPE } from './mcp-scopes.js';
import { McpSession } from './mcp-session.js';
import { mapToolCallError, toCallToolResult, toMcpTool } from './mcp-tool.mapper.js';
import { PACKAGE_VERSION as version } from '../core/package-info.js';

/** The names MCP calls are counted under in /status and /metrics. */
const MCP_TOOLS_LIST = 'mcp tools/list';
const MCP_TOOLS_CALL = 'mcp tools/call';

/** What a handler gets from the SDK about its request. */
interface HandlerExtra {
  signal: AbortSignal;
  authInfo?: AuthInfo;
}

/**
 * Builds an MCP session: an SDK server whose tools are the ToolRegistry's, on a Streamable HTTP
 * transport. tools/call goes through `ToolRegistry.execute`, the path `tools.execute` takes:
 * argument validation, the timeout, output checks and safe errors are the registry's.
 */
@Injectable()
export class McpSessionFactory {
  private readonly logger = new Logger('Mcp');

  constructor(
    private readonly tools: ToolRegistry,
    private readonly stats: RpcStatsService,
    @Optional() private readonly tracing?: TracingService,
  ) {}

  create(sdk: McpSdk, subject: string): McpSession {
    const id = randomUUID();
    const server = new sdk.Server(
      { name: 'openclaw-gateway', version },
      { capabilities: { tools: { listChanged: true } } },
    );
    server.setRequestHandler(sdk.ListToolsRequestSchema, (_request, extra) =>
      this.listTools(extra),
    );
    server.setRequestHandler(sdk.CallToolRequestSchema, (request, extra) => {
      const call = () => this.callTool(request.params.name, request.params.arguments, extra);
      // A client's trace context in params._meta (MCP's place for it) is the call's parent.
      const tracer = this.tracing?.tracer;
      const meta: Record<string, unknown> | undefined = extra._meta;
      const parent = tracer && meta ? tracer.extract(meta) : undefined;
      return tracer && parent ? tracer.with(parent, call) : call();
    });
    const transport = new sdk.Transport({ sessionIdGenerator: () => id });
    return new McpSession(id, subject, server, transport);
  }

  private listTools(extra: HandlerExtra): ListToolsResult {
    // Counted with the JSON-RPC methods (/status, /metrics), under the MCP method's name.
    const startedAt = this.stats.started();
    try {
      this.authorize(extra, TOOLS_READ_SCOPE);
      const result = { tools: this.tools.list().map(toMcpTool) };
      this.stats.finished(MCP_TOOLS_LIST, false, startedAt);
      return result;
    } catch (error) {
      this.stats.finished(MCP_TOOLS_LIST, true, startedAt);
      throw error;
    }
  }

  private async callTool(
    name: string,
    args: Record<string, unknown> | undefined,
    extra: HandlerExtra,
  ): Promise<CallToolResult> {
    const startedAt = this.stats.started();
    let failed = true;
    try {
      const caller = this.authorize(extra, TOOLS_EXECUTE_SCOPE);
      const result = await this.tools.execute(name, args, { caller, signal: extra.signal });
      failed = result.isError;
      return toCallToolResult(result);
    } catch (error) {
      if (!(error instanceof GatewayException)) {
        const correlationId = randomUUID();
        this.logger.error({ err: error, correlationId, tool: name }, 'MCP tools/call failed');
        throw new McpProtocolError(RpcErrorCode.InternalError, 'Internal error', {
          correlationId,
        });
      }
      const failure = mapToolCallError(error);
      if (failure.kind === 'tool-error') return failure.result;
      throw new McpProtocolError(failure.code, failure.message, failure.data);
    } finally {
      this.stats.finished(MCP_TOOLS_CALL, failed, startedAt);
    }
  }

  /**
   * The request's caller, holding `scope`. The HTTP layer refused requests without it already;
   * this is the backstop should a message reach a handler some other way.
   */
  private authorize(extra: HandlerExtra, scope: string): Caller {
    const caller = callerFromAuthInfo(extra.authInfo);
    if (!caller) throw new McpProtocolError(RpcErrorCode.Unauthenticated, 'Not authenticated');
    if (!hasScope(caller, scope)) {
      throw new McpProtocolError(RpcErrorCode.Forbidden, 'Forbidden', { requiredScope: scope });
    }
    return caller;
  }
}
