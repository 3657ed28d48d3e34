import { Injectable } from '@nestjs/common';
import { parseAgentConfigs } from '../agents/agent-config.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { parseMcpServerConfigs } from '../tools/mcp-server.config.js';
import { approvalSelects, type ToolApprovalSetting } from '../tools/tool-approval.setting.js';
import type { ToolDescriptor } from '../tools/tool.types.js';

const MCP_SOURCE = 'mcp:';

/**
 * Which tool calls of a turn wait for a human decision. An agent's `approval`, when set, decides
 * for every tool it calls; otherwise an MCP server's `approval` decides for that server's tools;
 * otherwise nothing waits. Only turns ask: `tools.execute` is the client's own act.
 */
@Injectable()
export class ToolApprovalPolicy {
  private settings?: {
    agents: Map<string, ToolApprovalSetting>;
    servers: Map<string, ToolApprovalSetting>;
  };

  constructor(private readonly config: GatewayConfig) {}

  requires(agentId: string, tool: ToolDescriptor): boolean {
    const { agents, servers } = this.load();
    const destructive = tool.annotations?.destructiveHint === true;
    const own = agents.get(agentId);
    if (own !== undefined) return approvalSelects(own, tool.name, destructive);
    if (!tool.source.startsWith(MCP_SOURCE)) return false;
    const server = tool.source.slice(MCP_SOURCE.length);
    const setting = servers.get(server);
    if (setting === undefined) return false;
    // A server's list may name its tools as the server does, or as the registry does.
    const bare = tool.name.startsWith(`${server}.`)
      ? tool.name.slice(server.length + 1)
      : tool.name;
    return (
      approvalSelects(setting, tool.name, destructive) ||
      approvalSelects(setting, bare, destructive)
    );
  }

  /** Parsed on first use: the agents and tools modules validated both lists at boot already. */
  private load(): NonNullable<ToolApprovalPolicy['settings']> {
    if (this.settings) return this.settings;
    const agents = new Map<string, ToolApprovalSetting>();
    for (const agent of parseAgentConfigs(this.config.agents)) {
      if (agent.approval !== undefined) agents.set(agent.id, agent.approval);
    }
    const servers = new Map<string, ToolApprovalSetting>();
    for (const { name, config } of parseMcpServerConfigs(this.config.mcpServers)) {
      if (config.approval !== undefined) servers.set(name, config.approval);
    }
    this.settings = { agents, servers };
    return this.settings;
  }
}
