import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { GatewayConfig } from '../config/gateway-config.js';
import { TracingService } from '../tracing/tracing.service.js';
import { LOGGING_MODULE_OPTIONS, type LoggingModuleOptions } from './logging-module.options.js';
import { createRootLogger, ROOT_LOGGER, type RootLogger } from './root-logger.js';

/** Owns the process's pino logger: made from config at boot, flushed when the app closes. */
@Module({
  providers: [
    {
      provide: ROOT_LOGGER,
      inject: [GatewayConfig, LOGGING_MODULE_OPTIONS, TracingService],
      useFactory: (
        config: GatewayConfig,
        options: LoggingModuleOptions,
        tracing: TracingService,
      ): RootLogger => createRootLogger(config.log, options.destination, tracing.tracer),
    },
  ],
  exports: [ROOT_LOGGER],
})
export class RootLoggerModule implements OnApplicationShutdown {
  constructor(@Inject(ROOT_LOGGER) private readonly root: RootLogger) {}

  onApplicationShutdown(): void {
    this.root.close();
  }
}
