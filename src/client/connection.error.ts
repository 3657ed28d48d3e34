/**
 * The gateway could not be reached, or the connection closed before the reply: no JSON-RPC
 * answer exists. A call that is safe to repeat is re-sent after a reconnect instead; this error
 * reaches callers of the others (`session.create`, `tools.execute`), whose effect is unknown.
 */
export class ConnectionError extends Error {
  constructor(
    message: string,
    /** The HTTP status, when the gateway answered without a JSON-RPC body. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}
