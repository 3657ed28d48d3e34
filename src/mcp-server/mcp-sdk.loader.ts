import { Injectable } from '@nestjs/common';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type {
  CallToolRequestSchema,
  ListToolsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

/** The parts of the MCP SDK the front door uses. */
export interface McpSdk {
  Server: typeof Server;
  Transport: typeof WebStandardStreamableHTTPServerTransport;
  ListToolsRequestSchema: typeof ListToolsRequestSchema;
  CallToolRequestSchema: typeof CallToolRequestSchema;
}

/**
 * Imports the MCP SDK's server modules on the first /mcp request, not at boot: they weigh more
 * than the rest of the gateway's routes together, and most deployments never see an MCP client.
 */
@Injectable()
export class McpSdkLoader {
  private pending?: Promise<McpSdk>;
  private sdk?: McpSdk;

  /** True once the SDK has been imported. */
  get loaded(): boolean {
    return this.sdk !== undefined;
  }

  load(): Promise<McpSdk> {
    this.pending ??= importSdk().then(
      (sdk) => (this.sdk = sdk),
      (error: unknown) => {
        // A failed import is retried by the next request rather than cached for good.
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending;
  }
}

async function importSdk(): Promise<McpSdk> {
  const [server, transport, types] = await Promise.all([
    import('@modelcontextprotocol/sdk/server/index.js'),
    import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]);
  return {
    Server: server.Server,
    Transport: transport.WebStandardStreamableHTTPServerTransport,
    ListToolsRequestSchema: types.ListToolsRequestSchema,
    CallToolRequestSchema: types.CallToolRequestSchema,
  };
}
