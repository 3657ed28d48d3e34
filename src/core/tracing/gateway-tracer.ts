import type { Attributes, Context, Span } from '@opentelemetry/api';

export type { Attributes, Context, Span } from '@opentelemetry/api';

export type TraceSpanKind = 'server' | 'client' | 'internal';

/** W3C trace context as it travels: HTTP headers, or MCP's and JSON-RPC's `params._meta`. */
export interface TraceCarrier {
  traceparent?: unknown;
  tracestate?: unknown;
}

/**
 * What the gateway's code does with OpenTelemetry, when tracing is on. Only types are imported
 * from the API package here: the implementation (otlp-trace.backend.ts, with the SDK and the
 * exporter) is loaded by TracingModule only when tracing is on, so that code paths check
 * `TracingService.tracer` once and pay nothing more when it is off.
 */
export interface GatewayTracer {
  /** A span, child of `parent` or else of the active context; the caller ends it. */
  startSpan(name: string, kind: TraceSpanKind, attributes?: Attributes, parent?: Context): Span;
  /** The context a valid `traceparent` (and `tracestate`) names; undefined without one. */
  extract(carrier: TraceCarrier): Context | undefined;
  /** The active context (the span of the work in progress, if any). */
  active(): Context;
  /** Runs `fn` in `context` (and what it starts asynchronously). */
  with<T>(context: Context, fn: () => T): T;
  /** Runs `fn` with `span` as the active span. */
  withSpan<T>(span: Span, fn: () => T): T;
  /** Runs `fn` with `span` active; marks the span failed if it rejects; ends it when settled. */
  run<T>(span: Span, fn: () => Promise<T>): Promise<T>;
  /** Marks a span failed with an `error.type` (a code or class name, never a message). */
  fail(span: Span, error: unknown): void;
  /** Writes `traceparent`/`tracestate` of the active context into `carrier`. */
  inject(carrier: Record<string, string>): void;
  /** The active span's ids, for log lines; undefined outside a span. */
  activeIds(): { trace_id: string; span_id: string } | undefined;
  /** Exports the spans ended so far. */
  flush(): Promise<void>;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}
