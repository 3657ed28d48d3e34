import {
  Injectable,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { TracingService } from '../core/tracing/tracing.service.js';
import type { McpServerConnection } from './mcp-server.connection.js';
import { parseMcpServerConfigs } from './mcp-server.config.js';
import { ToolRegistry } from './tool.registry.js';

/** How long boot waits for the first connection of every server; later ones happen in the background. */
const BOOT_WAIT_MS = 5_000;

/**
 * Tools of the MCP servers in `config.mcpServers`, registered as `<server>.<tool>` while their
 * server is connected. Connections start at bootstrap; a server that goes away (its connection
 * closes, or it stops answering pings) has its tools unregistered and is reconnected with
 * exponential backoff.
 */
@Injectable()
export class McpToolSource implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly connections: McpServerConnection[] = [];

  constructor(
    private readonly registry: ToolRegistry,
    private readonly config: GatewayConfig,
    @Optional() private readonly tracing?: TracingService,
  ) {}

  async onModuleInit(): Promise<void> {
    // Validated here so that a bad entry stops boot with its key named.
    const servers = parseMcpServerConfigs(this.config.mcpServers);
    if (servers.length === 0) return;
    // The MCP SDK is loaded only by a gateway that has servers to talk to.
    const { McpServerConnection } = await import('./mcp-server.connection.js');
    for (const { name, config } of servers) {
      this.connections.push(
        new McpServerConnection(name, config, this.registry, this.tracing?.tracer),
      );
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.connections.length === 0) return;
    // Boot waits a little so that tools are listed when the gateway answers, never forever.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(this.connections.map((connection) => connection.start())),
      new Promise((resolve) => (timer = setTimeout(resolve, BOOT_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.connections.map((connection) => connection.close()));
  }

  /** Connection state by server, for diagnostics and tests. */
  status(): Array<{ server: string; connected: boolean; tools: string[] }> {
    return this.connections.map((connection) => connection.status());
  }
}
