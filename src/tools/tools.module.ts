import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AgentsModule } from '../agents/agents.module.js';
import { McpToolSource } from './mcp-tool.source.js';
import { ToolRegistry } from './tool.registry.js';
import { ToolRunRecording } from './tool-run.recording.js';
import { ToolsRpc } from './tools.rpc.js';

/**
 * Tools: the registry (built-ins, `@GatewayTool()` providers, MCP servers' tools) and the
 * `tools.*` methods. A module that plugs a recorder into ToolRunRecording (the sessions module)
 * lets `tools.execute { sessionKey }` record calls in sessions.
 */
@Module({
  imports: [DiscoveryModule, AgentsModule],
  providers: [ToolRegistry, ToolsRpc, McpToolSource, ToolRunRecording],
  exports: [ToolRegistry, ToolRunRecording],
})
export class ToolsModule {}
