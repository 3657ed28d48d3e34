import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';

/**
 * One MCP session (Mcp-Session-Id): its SDK server and transport, the subject that opened it,
 * and how busy it is. It lives in this process only.
 */
export class McpSession {
  /** HTTP requests in progress, the standalone GET stream included. */
  private inFlight = 0;
  private lastActiveAt = Date.now();
  private ready = false;
  private closing?: Promise<void>;

  constructor(
    readonly id: string,
    readonly subject: string,
    readonly server: Server,
    readonly transport: WebStandardStreamableHTTPServerTransport,
  ) {
    // Notifications other than pings wait for the client's `initialized` (MCP lifecycle).
    server.oninitialized = () => {
      this.ready = true;
    };
  }

  /** True once the initialize request was accepted (the transport took the session id). */
  get initialized(): boolean {
    return this.transport.sessionId !== undefined;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  get busy(): boolean {
    return this.inFlight > 0;
  }

  /** When the session last started or finished a request (epoch ms). */
  get lastActive(): number {
    return this.lastActiveAt;
  }

  connect(): Promise<void> {
    return this.server.connect(this.transport);
  }

  /** A request starts; `end` must follow when its response is over. */
  begin(): void {
    this.inFlight++;
    this.lastActiveAt = Date.now();
  }

  end(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.lastActiveAt = Date.now();
  }

  /** Tells the client to list tools again; a session not yet initialized is skipped. */
  async notifyToolsChanged(): Promise<void> {
    if (this.ready && !this.closed) await this.server.sendToolListChanged();
  }

  /** Ends the GET stream (its token expired); the client reconnects with a fresh token. */
  endStandaloneStream(): void {
    this.transport.closeStandaloneSSEStream();
  }

  /** Closes the transport (ending its streams and aborting handlers in flight). */
  close(): Promise<void> {
    this.closing ??= this.server.close();
    return this.closing;
  }
}
