import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TRACING_MODULE_OPTIONS, type TracingModuleOptions } from './tracing-module.options.js';
import { describeEndpoint, readTracingSettings } from './tracing-settings.js';
import { TracingService } from './tracing.service.js';

/** Makes the TracingService: the OpenTelemetry SDK and exporter are imported only when on. */
async function createTracing(options: TracingModuleOptions): Promise<TracingService> {
  const settings = readTracingSettings(options.env);
  if (!settings) return new TracingService();
  const logger = new Logger('Tracing');
  if (settings.unsupportedProtocol) {
    // OTLP collectors take JSON on the same /v1/traces path; only the body's encoding differs.
    logger.warn(
      `OTEL_EXPORTER_OTLP_PROTOCOL "${settings.unsupportedProtocol}" is not supported: spans are sent as http/json`,
    );
  }
  const { OtlpTraceBackend } = await import('./otlp-trace.backend.js');
  logger.log(
    `exporting spans of service "${settings.serviceName}" to ${describeEndpoint(settings.url)}`,
  );
  return new TracingService(new OtlpTraceBackend(settings));
}

/**
 * OpenTelemetry traces, for every module: on when OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (and OTEL_SDK_DISABLED is not "true"). Spans still
 * buffered are exported when the application shuts down, after every module has been destroyed
 * (so the last commits and turns are in).
 */
@Global()
@Module({
  providers: [
    {
      provide: TracingService,
      inject: [TRACING_MODULE_OPTIONS],
      useFactory: createTracing,
    },
  ],
  exports: [TracingService],
})
export class TracingModule implements OnApplicationShutdown {
  constructor(@Inject(TracingService) private readonly tracing: TracingService) {}

  async onApplicationShutdown(): Promise<void> {
    await this.tracing.shutdown();
  }
}
