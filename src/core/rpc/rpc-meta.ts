/**
 * Splits MCP's `_meta` off a call's params (MCP puts `traceparent` and `tracestate` there, and a
 * JSON-RPC client may do the same). It is accepted on every method and never reaches the
 * params validator or the handler; a `_meta` that is not an object is dropped unread.
 */
export function splitMeta(params: unknown): {
  params: unknown;
  meta?: Record<string, unknown>;
} {
  if (
    typeof params !== 'object' ||
    params === null ||
    Array.isArray(params) ||
    !Object.hasOwn(params, '_meta')
  ) {
    return { params };
  }
  const { _meta: meta, ...rest } = params as Record<string, unknown>;
  return typeof meta === 'object' && meta !== null && !Array.isArray(meta)
    ? { params: rest, meta: meta as Record<string, unknown> }
    : { params: rest };
}
