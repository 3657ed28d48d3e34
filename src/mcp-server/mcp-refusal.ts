import { RpcErrorCode } from '../core/rpc/rpc-error-code.js';

/** Seconds a client is asked to wait when this instance holds all the sessions it may. */
const FULL_RETRY_AFTER_SECONDS = 5;

/**
 * An /mcp request refused before it reaches an MCP session: an HTTP status and a JSON-RPC
 * error body (McpExceptionFilter writes both). MCP clients act on the status (404: start a new
 * session; 403 with `insufficient_scope`: ask for that scope) and show the body.
 */
export class McpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: RpcErrorCode,
    message: string,
    readonly data?: Record<string, unknown>,
    readonly headers: Readonly<Record<string, string>> = {},
    /** Set on 403: the scope the WWW-Authenticate challenge asks for. */
    readonly insufficientScope?: string,
  ) {
    super(message);
    this.name = 'McpRefusal';
  }

  static sessionRequired(): McpRefusal {
    return new McpRefusal(
      400,
      RpcErrorCode.InvalidRequest,
      'Mcp-Session-Id header is required: send initialize first',
    );
  }

  static alreadyInSession(): McpRefusal {
    return new McpRefusal(
      400,
      RpcErrorCode.InvalidRequest,
      'initialize opens a session: send it without Mcp-Session-Id',
    );
  }

  /** Unknown, closed, expired, another subject's, or opened on another instance. */
  static sessionNotFound(): McpRefusal {
    return new McpRefusal(404, RpcErrorCode.NotFound, 'Session not found: initialize a new one');
  }

  static tooManySessions(): McpRefusal {
    return new McpRefusal(
      503,
      RpcErrorCode.Unavailable,
      'Too many MCP sessions on this instance, retry later',
      { retryable: true },
      { 'retry-after': String(FULL_RETRY_AFTER_SECONDS) },
    );
  }

  static rateLimited(retryAfterMs: number, reason?: 'store_unavailable'): McpRefusal {
    return new McpRefusal(
      429,
      RpcErrorCode.RateLimited,
      'Rate limit exceeded',
      { retryAfterMs, limit: 'client', ...(reason ? { reason } : {}) },
      { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
    );
  }

  static insufficientScope(scope: string): McpRefusal {
    return new McpRefusal(
      403,
      RpcErrorCode.Forbidden,
      `Forbidden: this needs the ${scope} scope`,
      { requiredScope: scope },
      {},
      scope,
    );
  }
}
