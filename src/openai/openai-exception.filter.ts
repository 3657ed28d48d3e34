import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestCorrelationId } from '../core/logging/correlation-id.js';
import { mapOpenAiError } from './openai-error.mapper.js';

const BEARER_CHALLENGE = 'Bearer realm="openclaw-gateway"';

/**
 * Every error on /v1, the global guards' refusals included (401, 403, 429 arrive here as
 * HttpExceptions), answered in OpenAI's shape with its status and headers. A stream that already
 * started ends with an error event instead (SseChunkWriter), never here.
 */
@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('OpenAI');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const correlationId = requestCorrelationId(request);
    const { error, unexpected } = mapOpenAiError(exception, correlationId);
    if (unexpected) this.logger.error({ err: exception, correlationId }, 'unhandled /v1 error');
    if (reply.sent || reply.raw.headersSent || reply.raw.destroyed) {
      // The client left or the answer is under way: nobody to tell.
      this.logger.debug({ correlationId, status: error.status }, 'error after the reply started');
      return;
    }
    for (const [name, value] of Object.entries(error.headers)) void reply.header(name, value);
    if (error.status === 401 && !reply.hasHeader('www-authenticate')) {
      void reply.header('www-authenticate', BEARER_CHALLENGE);
    }
    void reply
      .status(error.status)
      .header('cache-control', 'no-store')
      .type('application/json')
      .send(JSON.stringify(error.toBody()));
  }
}
