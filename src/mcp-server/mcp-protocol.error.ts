/**
 * A JSON-RPC error answered inside an MCP session. The SDK sends any thrown error's numeric
 * `code`, `message` and `data` as they are; its own McpError would prefix the message.
 */
export class McpProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'McpProtocolError';
  }
}
