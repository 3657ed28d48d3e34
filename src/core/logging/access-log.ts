import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { LogConfig } from '../config/gateway-config.js';
import { requestCorrelationId } from './correlation-id.js';

/**
 * One line per HTTP request, written from Fastify's onResponse hook: no middleware layer and no
 * per-request AsyncLocalStorage. Never the query string, the body or a header; health probes
 * (which orchestrators send every few seconds) are not recorded.
 */
export function attachAccessLog(
  fastify: FastifyInstance,
  logger: Logger,
  mode: LogConfig['access'],
): void {
  if (mode === 'off') return;
  const minStatus = mode === 'errors' ? 400 : 0;
  const enabled = logger.isLevelEnabled('info');
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const status = reply.statusCode;
    if (status >= minStatus && enabled && !request.url.startsWith('/health')) {
      logger.info(
        {
          req: {
            id: requestCorrelationId(request),
            method: request.method,
            path: request.url.split('?')[0],
          },
          res: { statusCode: status },
          responseTime: Math.round(reply.elapsedTime * 100) / 100,
        },
        status >= 500 ? 'request failed' : 'request completed',
      );
    }
    done();
  });
}
