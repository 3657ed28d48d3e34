import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { RootLoggerModule } from './root-logger.module.js';
import { ROOT_LOGGER, type RootLogger } from './root-logger.js';

/**
 * Structured JSON logs: Nest's logger is nestjs-pino's over our one pino instance, and HTTP access
 * records come from a Fastify hook (access-log.ts), so nestjs-pino's per-request middleware
 * (pino-http through middie, with AsyncLocalStorage) is not mounted. Credentials and bodies are
 * never logged; the lines that need a correlation id carry it.
 */
@Module({
  imports: [
    RootLoggerModule,
    LoggerModule.forRootAsync({
      imports: [RootLoggerModule],
      providers: [],
      inject: [ROOT_LOGGER],
      // nestjs-pino takes its root logger from the pino-http instance it builds: given ours, it
      // writes through it. No routes: its middleware is not mounted.
      useFactory: (root: RootLogger) => ({ pinoHttp: { logger: root.logger }, forRoutes: [] }),
    }),
  ],
  exports: [RootLoggerModule],
})
export class LoggingModule {}
