import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { IncomingMessage } from 'node:http';
import type { Options } from 'pino-http';
import { GatewayConfig } from '../config/gateway-config.js';
import { LOGGING_MODULE_OPTIONS, type LoggingModuleOptions } from './logging-module.options.js';
import { serializeLoggedError } from './error-log.serializer.js';

/** Structured JSON logs with a correlation id per request; credentials and bodies never logged. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      imports: [],
      providers: [],
      inject: [GatewayConfig, LOGGING_MODULE_OPTIONS],
      useFactory: (config: GatewayConfig, options: LoggingModuleOptions) => {
        const pinoHttp: Options = {
          level: config.log.level,
          redact: {
            paths: [
              'req.headers.authorization',
              'req.headers.cookie',
              'req.headers["sec-websocket-protocol"]',
              'res.headers["set-cookie"]',
            ],
            censor: '[redacted]',
          },
          // Only what is needed to follow a request: never the query string or the body.
          serializers: {
            req: (req: { id: string; method: string; url: string }) => ({
              id: req.id,
              method: req.method,
              path: req.url.split('?')[0],
            }),
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            err: serializeLoggedError,
          },
          autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' },
        };
        return {
          pinoHttp: options.destination ? [pinoHttp, options.destination] : pinoHttp,
        };
      },
    }),
  ],
})
export class LoggingModule {}
