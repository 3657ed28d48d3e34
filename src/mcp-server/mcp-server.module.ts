import { Module } from '@nestjs/common';
import { AuthModule } from '../core/auth/auth.module.js';
import { RpcModule } from '../core/rpc/rpc.module.js';
import { ToolsModule } from '../tools/tools.module.js';
import { McpHttpService } from './mcp-http.service.js';
import { McpRequestLimiter } from './mcp-request.limiter.js';
import { McpSdkLoader } from './mcp-sdk.loader.js';
import { McpSessionFactory } from './mcp-session.factory.js';
import { McpSessionRegistry } from './mcp-session.registry.js';
import { McpController } from './mcp.controller.js';
import { ProtectedResourceController } from './protected-resource.controller.js';

/**
 * The MCP front door: the tool registry served to MCP clients at /mcp (Streamable HTTP), with
 * the OAuth protected-resource metadata that MCP authorization starts from. A translation onto
 * ToolRegistry, under the gateway's own authentication and limits.
 */
@Module({
  imports: [AuthModule, RpcModule, ToolsModule],
  controllers: [McpController, ProtectedResourceController],
  providers: [
    McpSdkLoader,
    McpSessionFactory,
    McpSessionRegistry,
    McpHttpService,
    McpRequestLimiter,
  ],
  exports: [McpSessionRegistry],
})
export class McpServerModule {}
