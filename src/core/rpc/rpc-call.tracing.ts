import type { GatewayTracer, Span, TraceCarrier } from '../tracing/gateway-tracer.js';
import type { RpcTransport } from './rpc-call-context.js';

/** What a call's span is made from: its method, how it came, and any trace context it brought. */
export interface TracedCall {
  method: string;
  transport: RpcTransport;
  headers: Record<string, string | string[] | undefined>;
  /** `params._meta`, split off the params. */
  meta?: TraceCarrier;
}

/**
 * Runs one JSON-RPC call in a span of its own: a child of the trace in `params._meta`, else
 * (over HTTP) of the request's `traceparent` header. Its attributes name the method and the
 * transport, never params or results; the caller records an error code on it. The call runs with
 * the span active, and stays synchronous when it was.
 */
export function runTracedCall<T>(
  tracer: GatewayTracer,
  call: TracedCall,
  run: (span: Span) => T | Promise<T>,
): T | Promise<T> {
  const parent =
    (call.meta && tracer.extract(call.meta)) ??
    (call.transport === 'http' ? tracer.extract(call.headers) : undefined);
  const span = tracer.startSpan(
    call.method,
    'server',
    { 'rpc.system': 'jsonrpc', 'rpc.method': call.method, 'openclaw.transport': call.transport },
    parent,
  );
  const outcome = tracer.withSpan(span, () => run(span));
  if (!(outcome instanceof Promise)) {
    span.end();
    return outcome;
  }
  return outcome.finally(() => span.end());
}
