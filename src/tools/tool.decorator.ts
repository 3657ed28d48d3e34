import { DiscoveryService } from '@nestjs/core';

/**
 * Marks a Nest provider as a tool: the provider instance itself implements `Tool` (one tool per
 * provider, one class per file). The ToolRegistry finds it at boot in any module; its `source`
 * is reported as given, `provider` being the usual value. Tools that come and go at run time
 * (MCP servers) use `ToolRegistry.register`/`unregister` instead.
 */
export const GatewayTool = DiscoveryService.createDecorator<void>();
