import {
  context as contextApi,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { GatewayException } from '../errors/gateway.exception.js';
import type { GatewayTracer, TraceCarrier, TraceSpanKind } from './gateway-tracer.js';
import type { TracingSettings } from './tracing-settings.js';
import { PACKAGE_VERSION as version } from '../package-info.js';

const KINDS: Record<TraceSpanKind, SpanKind> = {
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  internal: SpanKind.INTERNAL,
};

/**
 * The OpenTelemetry SDK behind GatewayTracer: a tracer provider of its own (a host's global
 * provider is left alone), a batch span processor, the OTLP/HTTP exporter (which reads
 * OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT and _COMPRESSION itself; the SDK reads OTEL_TRACES_SAMPLER
 * and OTEL_BSP_*), W3C trace context. Context follows async work through AsyncLocalStorage: the
 * global context manager is installed unless the host installed one already.
 */
export class OtlpTraceBackend implements GatewayTracer {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly propagator = new W3CTraceContextPropagator();

  constructor(settings: TracingSettings) {
    const resource = defaultResource()
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName }));
    this.provider = new BasicTracerProvider({
      resource,
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.url }))],
    });
    this.tracer = this.provider.getTracer('openclaw-gateway', version);
    useContextManager();
  }

  startSpan(name: string, kind: TraceSpanKind, attributes?: Attributes, parent?: Context): Span {
    return this.tracer.startSpan(
      name,
      { kind: KINDS[kind], attributes },
      parent ?? contextApi.active(),
    );
  }

  extract(carrier: TraceCarrier): Context | undefined {
    const { traceparent, tracestate } = carrier;
    if (typeof traceparent !== 'string') return undefined;
    const fields: Record<string, string> = { traceparent };
    if (typeof tracestate === 'string') fields.tracestate = tracestate;
    const extracted = this.propagator.extract(ROOT_CONTEXT, fields, defaultTextMapGetter);
    // An invalid traceparent leaves the context as it was: the call starts a trace of its own.
    return trace.getSpanContext(extracted) ? extracted : undefined;
  }

  active(): Context {
    return contextApi.active();
  }

  with<T>(context: Context, fn: () => T): T {
    return contextApi.with(context, fn);
  }

  withSpan<T>(span: Span, fn: () => T): T {
    return contextApi.with(trace.setSpan(contextApi.active(), span), fn);
  }

  async run<T>(span: Span, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.withSpan(span, fn);
    } catch (error) {
      this.fail(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  fail(span: Span, error: unknown): void {
    span.setAttribute('error.type', errorType(error));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }

  inject(carrier: Record<string, string>): void {
    this.propagator.inject(contextApi.active(), carrier, defaultTextMapSetter);
  }

  activeIds(): { trace_id: string; span_id: string } | undefined {
    const span = trace.getSpan(contextApi.active());
    if (!span) return undefined;
    const { traceId, spanId } = span.spanContext();
    return { trace_id: traceId, span_id: spanId };
  }

  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  async shutdown(): Promise<void> {
    try {
      await this.provider.shutdown();
    } finally {
      releaseContextManager();
    }
  }
}

/**
 * The context manager this module installed, and how many traced gateways of the process use
 * it: installed by the first, removed with the last (another gateway may still be running in an
 * embedding host or a test), never when the host installed its own.
 */
let installed: { manager: AsyncLocalStorageContextManager; users: number } | undefined;

function useContextManager(): void {
  if (installed) {
    installed.users++;
    return;
  }
  const manager = new AsyncLocalStorageContextManager().enable();
  if (contextApi.setGlobalContextManager(manager)) installed = { manager, users: 1 };
  else manager.disable();
}

function releaseContextManager(): void {
  if (!installed || --installed.users > 0) return;
  contextApi.disable();
  installed.manager.disable();
  installed = undefined;
}

/** A code or a class name: messages may quote what a caller or a model sent, so none is kept. */
function errorType(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error instanceof GatewayException) return error.code;
  if (error instanceof Error) return error.name || 'Error';
  return '_OTHER';
}
