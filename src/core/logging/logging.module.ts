import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { IncomingMessage } from 'node:http';
import { GatewayConfig } from '../config/gateway-config.js';

/** Structured JSON logs with a correlation id per request; credentials and bodies never logged. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      imports: [],
      providers: [],
      inject: [GatewayConfig],
      useFactory: (config: GatewayConfig) => ({
        pinoHttp: {
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
          },
          autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' },
        },
      }),
    }),
  ],
})
export class LoggingModule {}
