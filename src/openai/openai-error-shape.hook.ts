import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isOpenAiErrorBody } from './openai-error.js';
import { fromHttpStatus } from './openai-error.mapper.js';

const PREFIX = '/v1/';

/**
 * Some errors never reach /v1's handlers and filter: a body over `gateway.bodyLimit` (413),
 * malformed JSON, a wrong content type, an unknown /v1 path, a draining instance (503). The
 * gateway answers those in its own shape; this hook rewrites them, on /v1 only, into OpenAI's,
 * keeping the status, so that OpenAI's clients read every refusal the same way.
 */
@Injectable()
export class OpenAiErrorShapeHook implements OnModuleInit {
  private readonly logger = new Logger('OpenAI');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const instance = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (typeof instance?.addHook !== 'function') return;
    try {
      instance.addHook('onSend', (request, reply, payload, done) => {
        done(null, reshape(request, reply, payload));
      });
    } catch (err) {
      // A host that started Fastify before the gateway module: errors keep the gateway's shape.
      this.logger.warn({ err }, 'cannot reshape early /v1 errors');
    }
  }
}

function reshape(request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
  if (reply.statusCode < 400 || typeof payload !== 'string' || !request.url.startsWith(PREFIX)) {
    return payload;
  }
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    body = undefined;
  }
  if (isOpenAiErrorBody(body)) return payload;
  const message =
    typeof (body as { message?: unknown } | undefined)?.message === 'string'
      ? (body as { message: string }).message
      : 'Request failed';
  const error = fromHttpStatus(reply.statusCode, message);
  for (const [name, value] of Object.entries(error.headers)) {
    if (!reply.hasHeader(name)) void reply.header(name, value);
  }
  void reply.header('content-type', 'application/json; charset=utf-8');
  return JSON.stringify(error.toBody());
}
