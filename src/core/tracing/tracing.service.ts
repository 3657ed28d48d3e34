import type { GatewayTracer } from './gateway-tracer.js';

/**
 * The gateway's tracing: `tracer` is set when OTEL_* turned it on, and undefined otherwise. Code
 * that traces checks it once (`const tracer = tracing.tracer; if (tracer) ...`): with tracing off
 * that check is all it costs, no span object is made and no OpenTelemetry package is loaded.
 */
export class TracingService {
  constructor(readonly tracer?: GatewayTracer) {}

  get enabled(): boolean {
    return this.tracer !== undefined;
  }

  /**
   * Runs an HTTP request's work in a server span (`POST /v1/chat/completions`), the child of the
   * request's `traceparent` header when it has a valid one; with tracing off, just runs it.
   */
  inRequest<T>(
    method: string,
    route: string,
    headers: Record<string, string | string[] | undefined>,
    work: () => Promise<T>,
  ): Promise<T> {
    const tracer = this.tracer;
    if (!tracer) return work();
    const span = tracer.startSpan(
      `${method} ${route}`,
      'server',
      { 'http.request.method': method, 'http.route': route },
      tracer.extract(headers),
    );
    return tracer.run(span, work);
  }

  /** Exports the spans ended so far (an operator's or a test's "now"). */
  async flush(): Promise<void> {
    await this.tracer?.flush();
  }

  /** Exports the spans still buffered; called once, when the application shuts down. */
  async shutdown(): Promise<void> {
    await this.tracer?.shutdown();
  }
}
