import { Logger } from '@nestjs/common';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { GatewayTracer } from '../core/tracing/gateway-tracer.js';
import type { McpServerConfig } from './mcp-server.config.js';
import type { ToolRegistry } from './tool.registry.js';
import type { JsonSchema, Tool, ToolAnnotations, ToolContent, ToolOutput } from './tool.types.js';

const BACKOFF_INITIAL_MS = 250;
const BACKOFF_MAX_MS = 30_000;
const DEFAULT_PING_INTERVAL_MS = 15_000;
/** A ping unanswered this long (or within the interval, if shorter) means the server is gone. */
const PING_TIMEOUT_MS = 5_000;
const CLIENT_INFO = { name: 'openclaw-gateway', version: '0.1.0' };

/** The tool shape `tools/list` answers with (the parts we use). */
interface McpListedTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  annotations?: ToolAnnotations;
}

/**
 * One MCP server: its client, the tools it registered, and the reconnect loop. This file is what
 * loads the MCP SDK (and zod under it): McpToolSource imports it only when a server is configured.
 */
export class McpServerConnection {
  private readonly logger: Logger;
  private client?: Client;
  private registered = new Set<string>();
  private attempt = 0;
  private retryTimer?: NodeJS.Timeout;
  private closing = false;
  private connecting?: Promise<void>;
  private pingTimer?: NodeJS.Timeout;

  constructor(
    private readonly server: string,
    private readonly config: McpServerConfig,
    private readonly registry: ToolRegistry,
    private readonly tracer?: GatewayTracer,
  ) {
    this.logger = new Logger(`McpServer:${server}`);
  }

  /** Connects once, scheduling retries on failure; resolves either way. */
  start(): Promise<void> {
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.unregisterAll();
    const client = this.client;
    this.client = undefined;
    await client?.close().catch(() => undefined);
  }

  status(): { server: string; connected: boolean; tools: string[] } {
    return {
      server: this.server,
      connected: this.client !== undefined,
      tools: [...this.registered],
    };
  }

  private async connect(): Promise<void> {
    if (this.closing) return;
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    let lost = false;
    client.onclose = () => {
      lost = true;
      if (this.client === client) this.lost('connection closed');
    };
    client.onerror = (error) => this.logger.debug(`transport error: ${error.message}`);
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      if (this.client === client) void this.refresh(client);
    });
    try {
      await client.connect(await this.transport());
      if (lost || this.closing) throw new Error('closed while connecting');
      this.client = client;
      await this.refresh(client);
      this.attempt = 0;
      this.watch(client);
      this.logger.log(`connected, ${this.registered.size} tools`);
    } catch (error) {
      await client.close().catch(() => undefined);
      if (this.client === client) this.client = undefined;
      this.unregisterAll();
      this.logger.warn(`cannot connect: ${describeError(error)}`);
      this.scheduleReconnect();
    }
  }

  /** Only the transport the server uses is imported: stdio's pulls in process spawning. */
  private async transport(): Promise<Transport> {
    if (this.config.url !== undefined) {
      const { StreamableHTTPClientTransport } =
        await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
      return new StreamableHTTPClientTransport(new URL(this.config.url), {
        requestInit: { headers: this.config.headers ?? {} },
      });
    }
    const { getDefaultEnvironment, StdioClientTransport } =
      await import('@modelcontextprotocol/sdk/client/stdio.js');
    const transport = new StdioClientTransport({
      command: this.config.command ?? '',
      args: this.config.args ?? [],
      env: { ...getDefaultEnvironment(), ...(this.config.env ?? {}) },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) =>
      this.logger.debug(chunk.toString('utf8').trimEnd()),
    );
    return transport;
  }

  /** Pings the server now and then: neither a dead HTTP server nor a hung process says so. */
  private watch(client: Client): void {
    clearInterval(this.pingTimer);
    const interval = this.config.pingInterval ?? DEFAULT_PING_INTERVAL_MS;
    if (interval === 0) return;
    let inFlight = false;
    this.pingTimer = setInterval(() => {
      if (inFlight || this.client !== client) return;
      inFlight = true;
      client
        .ping({ timeout: Math.min(interval, PING_TIMEOUT_MS) })
        .then(
          () => undefined,
          (error: unknown) => {
            if (this.client !== client) return;
            this.lost(`did not answer a ping (${describeError(error)})`);
            void client.close().catch(() => undefined);
          },
        )
        .finally(() => (inFlight = false));
    }, interval);
    this.pingTimer.unref();
  }

  private lost(why: string): void {
    clearInterval(this.pingTimer);
    this.client = undefined;
    this.unregisterAll();
    if (this.closing) return;
    this.logger.warn(`${why}; its tools are unavailable until it reconnects`);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closing) return;
    clearTimeout(this.retryTimer);
    const delay = Math.min(BACKOFF_INITIAL_MS * 2 ** this.attempt, BACKOFF_MAX_MS);
    this.attempt++;
    this.retryTimer = setTimeout(() => void this.start(), delay);
    this.retryTimer.unref();
  }

  /** Lists the server's tools (every page) and makes the registry match. */
  private async refresh(client: Client): Promise<void> {
    const listed: McpListedTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      listed.push(...(page.tools as McpListedTool[]));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    if (this.client !== client) return;

    // Re-registered whole: a tool whose schema changed gets its new validator.
    this.unregisterAll();
    for (const listedTool of listed) {
      const tool = this.toTool(client, listedTool);
      try {
        this.registry.register(tool);
        this.registered.add(tool.name);
      } catch (error) {
        this.logger.warn(`tool "${listedTool.name}" skipped: ${describeError(error)}`);
      }
    }
  }

  private unregisterAll(): void {
    for (const name of this.registered) this.registry.unregister(name);
    this.registered = new Set();
  }

  /**
   * The tool call's trace context for the server, in `params._meta` as MCP's specification
   * allows (`traceparent`, `tracestate`): the server's spans join the gateway's trace.
   */
  private traceMeta(): { _meta?: Record<string, string> } {
    if (!this.tracer) return {};
    const meta: Record<string, string> = {};
    this.tracer.inject(meta);
    return Object.keys(meta).length > 0 ? { _meta: meta } : {};
  }

  private toTool(client: Client, listed: McpListedTool): Tool {
    const tool: Tool = {
      name: `${this.server}.${listed.name}`,
      description: listed.description ?? listed.title ?? '',
      inputSchema: { ...listed.inputSchema, type: 'object' },
      source: `mcp:${this.server}`,
      execute: async (args, ctx): Promise<ToolOutput> => {
        const result = await client.callTool(
          { name: listed.name, arguments: args, ...this.traceMeta() },
          undefined,
          { signal: ctx.signal },
        );
        const output: ToolOutput = {
          content: (result.content ?? []) as ToolContent[],
          isError: result.isError === true,
        };
        const structured: unknown = result.structuredContent;
        if (typeof structured === 'object' && structured !== null) {
          output.structuredContent = structured as Record<string, unknown>;
        }
        return output;
      },
    };
    if (listed.outputSchema) tool.outputSchema = listed.outputSchema;
    const annotations = pickAnnotations(listed);
    if (annotations) tool.annotations = annotations;
    return tool;
  }
}

function pickAnnotations(listed: McpListedTool): ToolAnnotations | undefined {
  const source = listed.annotations ?? {};
  const annotations: ToolAnnotations = {};
  const title = source.title ?? listed.title;
  if (title !== undefined) annotations.title = title;
  for (const key of [
    'readOnlyHint',
    'destructiveHint',
    'idempotentHint',
    'openWorldHint',
  ] as const) {
    if (typeof source[key] === 'boolean') annotations[key] = source[key];
  }
  return Object.keys(annotations).length > 0 ? annotations : undefined;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
