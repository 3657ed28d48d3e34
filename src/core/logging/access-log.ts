import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hostname } from 'node:os';
import type { LogConfig } from '../config/gateway-config.js';
import { requestCorrelationId } from './correlation-id.js';

/** Where access lines go: the root logger's (buffered) stream. */
export interface AccessLogSink {
  write(line: string): void;
}

/** pino's number for INFO, so access lines sort and filter with the rest. */
const INFO = 30;

/**
 * One line per HTTP request, written from Fastify's onResponse hook: no middleware layer and no
 * per-request AsyncLocalStorage. The line has pino's shape (level, time, pid, hostname, msg) but
 * is assembled here from known fields: a general-purpose serializer with redaction cost more than
 * the rest of a request's logging. Never the query string, the body or a header; health probes
 * (which orchestrators send every few seconds) are not recorded.
 */
export function attachAccessLog(
  fastify: FastifyInstance,
  sink: AccessLogSink,
  config: LogConfig,
): void {
  const levels: Record<LogConfig['level'], number> = {
    trace: 10,
    debug: 20,
    info: 30,
    warn: 40,
    error: 50,
    fatal: 60,
    silent: Infinity,
  };
  if (config.access === 'off' || levels[config.level] > INFO) return;
  const minStatus = config.access === 'errors' ? 400 : 0;
  const origin = `,"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`;
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const status = reply.statusCode;
    const url = request.url;
    if (status >= minStatus && !url.startsWith('/health')) {
      const query = url.indexOf('?');
      const path = query < 0 ? url : url.slice(0, query);
      const msg = status >= 500 ? 'request failed' : 'request completed';
      sink.write(
        `{"level":${INFO},"time":${Date.now()}${origin},"req":{"id":${JSON.stringify(requestCorrelationId(request))},"method":"${request.method}","path":${JSON.stringify(path)}},"res":{"statusCode":${status}},"responseTime":${Math.round(reply.elapsedTime * 100) / 100},"msg":"${msg}"}\n`,
      );
    }
    done();
  });
}
