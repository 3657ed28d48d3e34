import type { LanguageModelMiddleware } from 'ai';
import type { GatewayTracer, Span } from '../core/tracing/gateway-tracer.js';

type WrapStream = NonNullable<LanguageModelMiddleware['wrapStream']>;
type StreamResult = Awaited<ReturnType<WrapStream>>;
type StreamPart = StreamResult['stream'] extends ReadableStream<infer P> ? P : never;

/**
 * A span per model call (each step of an agent's loop is one), after OpenTelemetry's GenAI
 * conventions: `chat {model}` with the provider, the requested and answering model, token usage
 * and finish reasons. The call runs with its span active, so the provider request's
 * `traceparent` (tracedFetch) names it. Prompts, completions and tool arguments are not recorded.
 */
export function modelCallTracing(tracer: GatewayTracer, provider: string): LanguageModelMiddleware {
  return {
    specificationVersion: 'v3',
    wrapStream: async ({ doStream, params, model }) => {
      const span = tracer.startSpan(`chat ${model.modelId}`, 'client', {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': provider,
        'gen_ai.system': provider,
        'gen_ai.request.model': model.modelId,
        ...(params.temperature === undefined
          ? {}
          : { 'gen_ai.request.temperature': params.temperature }),
        ...(params.maxOutputTokens === undefined
          ? {}
          : { 'gen_ai.request.max_tokens': params.maxOutputTokens }),
      });
      let result: StreamResult;
      try {
        result = await tracer.withSpan(span, doStream);
      } catch (error) {
        tracer.fail(span, providerErrorType(error));
        span.end();
        throw error;
      }
      return { ...result, stream: observed(result.stream, span, tracer) };
    },
  };
}

/** `fetch` that sends the active trace context (`traceparent`, `tracestate`) to the provider. */
export function tracedFetch(tracer: GatewayTracer): typeof fetch {
  return (input, init) => {
    const carrier: Record<string, string> = {};
    tracer.inject(carrier);
    if (Object.keys(carrier).length === 0) return fetch(input, init);
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(carrier)) headers.set(name, value);
    return fetch(input, { ...init, headers });
  };
}

/** The model's stream as it is, read through: the span ends when it ends, fails or is cancelled. */
function observed(
  stream: ReadableStream<StreamPart>,
  span: Span,
  tracer: GatewayTracer,
): ReadableStream<StreamPart> {
  const reader = stream.getReader();
  let open = true;
  const end = (failure?: unknown): void => {
    if (!open) return;
    open = false;
    if (failure !== undefined) tracer.fail(span, providerErrorType(failure));
    span.end();
  };
  return new ReadableStream<StreamPart>({
    async pull(controller) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (error) {
        end(error);
        controller.error(error);
        return;
      }
      if (next.done) {
        end();
        controller.close();
        return;
      }
      record(span, next.value);
      if (next.value.type === 'error') end(next.value.error);
      controller.enqueue(next.value);
    },
    async cancel(reason) {
      end();
      await reader.cancel(reason);
    },
  });
}

function record(span: Span, part: StreamPart): void {
  if (part.type === 'response-metadata') {
    if (part.modelId) span.setAttribute('gen_ai.response.model', part.modelId);
    if (part.id) span.setAttribute('gen_ai.response.id', part.id);
  } else if (part.type === 'finish') {
    const { inputTokens, outputTokens } = part.usage;
    if (inputTokens.total !== undefined) {
      span.setAttribute('gen_ai.usage.input_tokens', inputTokens.total);
    }
    if (outputTokens.total !== undefined) {
      span.setAttribute('gen_ai.usage.output_tokens', outputTokens.total);
    }
    // The conventions' names (OpenAI's): tool_calls, content_filter.
    span.setAttribute('gen_ai.response.finish_reasons', [
      part.finishReason.unified.replace('-', '_'),
    ]);
  }
}

/** A provider's HTTP status when it answered with one, else the error's class. */
function providerErrorType(error: unknown): string {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof status === 'number') return String(status);
  return error instanceof Error ? error.name : '_OTHER';
}
