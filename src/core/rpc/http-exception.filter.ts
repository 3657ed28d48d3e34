import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestCorrelationId } from '../logging/correlation-id.js';
import { JsonBodyParseError } from './json-body.parser.js';
import { RpcErrorCode } from './rpc-error-code.js';
import { rpcCodeForHttpStatus } from './rpc-error.mapper.js';

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/**
 * True when the request failed because its client went away: the connection was reset or closed
 * mid-body (Node reports 'aborted'), or its socket is gone (a slow body cut by requestTimeout).
 * Not `request.raw.destroyed`: a request stream is destroyed as soon as its body has been read.
 */
function clientWentAway(exception: unknown, request: FastifyRequest): boolean {
  const error = exception as FastifyLikeError | undefined;
  return (
    error?.code === 'ECONNRESET' ||
    error?.code === 'ECONNABORTED' ||
    error?.message === 'aborted' ||
    request.raw.socket?.destroyed === true
  );
}

/**
 * Last line for HTTP errors, including those raised before a handler runs (body too large,
 * malformed JSON, wrong content type). On /rpc the body is a JSON-RPC error; nowhere is a stack
 * or an internal message sent.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const correlationId = requestCorrelationId(request);
    // The route Fastify matched, not the raw URL, which may spell the same path another way.
    const isRpc = request.routeOptions.url === '/rpc';

    if (clientWentAway(exception, request)) {
      // A client that left mid-request (a slow body cut by the request timeout, a reset): its
      // own doing, and nobody is left to answer. At ERROR a flood of these would bury real faults.
      this.logger.debug(
        { correlationId, code: (exception as FastifyLikeError).code },
        'client went away',
      );
      return;
    }

    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      if (isRpc) {
        // A refusal of the whole request (before any call ran) has no params to blame.
        const mapped = rpcCodeForHttpStatus(status);
        const code =
          mapped === undefined || mapped === RpcErrorCode.InvalidParams
            ? RpcErrorCode.InvalidRequest
            : mapped;
        const message = typeof body === 'string' ? body : exception.message;
        this.send(reply, status, { jsonrpc: '2.0', id: null, error: { code, message } });
      } else {
        this.send(
          reply,
          status,
          typeof body === 'string' ? { statusCode: status, message: body } : body,
        );
      }
      return;
    }

    if (exception instanceof JsonBodyParseError) {
      if (isRpc) {
        this.send(reply, 200, {
          jsonrpc: '2.0',
          id: null,
          error: { code: RpcErrorCode.ParseError, message: 'Parse error' },
        });
      } else {
        this.send(reply, 400, { statusCode: 400, message: exception.message });
      }
      return;
    }

    const fastifyError = exception as FastifyLikeError;
    if (typeof fastifyError.code === 'string' && fastifyError.code.startsWith('FST_ERR_CTP_')) {
      const status = fastifyError.statusCode ?? 400;
      const message =
        fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'Request body is too large'
          : fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'Content-Type must be application/json'
            : 'Invalid request body';
      this.send(
        reply,
        status,
        isRpc
          ? { jsonrpc: '2.0', id: null, error: { code: RpcErrorCode.InvalidRequest, message } }
          : { statusCode: status, message },
      );
      return;
    }

    this.logger.error({ err: exception, correlationId }, 'unhandled HTTP error');
    this.send(
      reply,
      500,
      isRpc
        ? {
            jsonrpc: '2.0',
            id: null,
            error: {
              code: RpcErrorCode.InternalError,
              message: 'Internal error',
              data: { correlationId },
            },
          }
        : { statusCode: 500, message: 'Internal server error', correlationId },
    );
  }

  private send(reply: FastifyReply, status: number, body: unknown): void {
    void reply.status(status).type('application/json').send(JSON.stringify(body));
  }
}
