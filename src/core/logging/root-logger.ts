import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogConfig } from '../config/gateway-config.js';
import type { GatewayTracer } from '../tracing/gateway-tracer.js';
import { serializeLoggedError } from './error-log.serializer.js';

/** The process's pino logger (ROOT_LOGGER): what the access log and Nest's logger write to. */
export interface RootLogger {
  logger: Logger;
  /** The stream lines go to: the access log writes its lines there directly. */
  stream: DestinationStream;
  flush(): void;
  close(): void;
}

export const ROOT_LOGGER = Symbol('openclaw:root-logger');

/** How often buffered lines reach stdout when traffic is too light to fill the buffer. */
const FLUSH_INTERVAL_MS = 200;

/**
 * The one pino logger of the process: Nest's logger (nestjs-pino) and the access records write
 * through it. On stdout it is buffered (written in 4 KiB batches, at the latest every 200 ms, and
 * at exit): one write(2) per line was the largest single cost of a request.
 */
export function createRootLogger(
  config: LogConfig,
  destination?: DestinationStream,
  tracer?: GatewayTracer,
): RootLogger {
  const stream = destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const buffered = destination ? undefined : (stream as ReturnType<typeof pino.destination>);
  const timer = buffered ? setInterval(() => buffered.flush(), FLUSH_INTERVAL_MS) : undefined;
  timer?.unref();
  const logger = pino(
    {
      level: config.level,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["sec-websocket-protocol"]',
          'res.headers["set-cookie"]',
        ],
        censor: '[redacted]',
      },
      serializers: { err: serializeLoggedError },
      // With tracing on, a line written inside a span names it (trace_id, span_id), so logs and
      // traces join; with it off there is no mixin to call.
      ...(tracer ? { mixin: () => tracer.activeIds() ?? {} } : {}),
    },
    stream,
  );
  return {
    logger,
    stream,
    flush: () => buffered?.flushSync(),
    close: () => {
      clearInterval(timer);
      buffered?.flushSync();
    },
  };
}
