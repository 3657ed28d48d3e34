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
import { HttpErrorShapes } from './http-error-shapes.js';
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

/** What went wrong, before it is written in the shape of the route that was asked. */
interface Refusal {
  status: number;
  message: string;
  /** The JSON-RPC code /rpc answers with. */
  rpcCode: RpcErrorCode;
  /** The body other routes answer with, when the exception carries its own. */
  plainBody?: unknown;
  /** A JSON-RPC parse error is answered 200 on /rpc, as the specification has it. */
  rpcStatus?: number;
  rpcMessage?: string;
}

/**
 * Last line for HTTP errors, including those raised before a handler runs (body too large,
 * malformed JSON, wrong content type). On /rpc the body is a JSON-RPC error; on a path a front
 * claimed (HttpErrorShapes), the front's shape; elsewhere `{ statusCode, message }`. Nowhere is a
 * stack or an internal message sent.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  constructor(private readonly shapes: HttpErrorShapes) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const correlationId = requestCorrelationId(request);

    if (clientWentAway(exception, request)) {
      // A client that left mid-request (a slow body cut by the request timeout, a reset): its
      // own doing, and nobody is left to answer. At ERROR a flood of these would bury real faults.
      this.logger.debug(
        { correlationId, code: (exception as FastifyLikeError).code },
        'client went away',
      );
      return;
    }

    const refusal = this.classify(exception, correlationId);
    // The route Fastify matched, not the raw URL, which may spell the same path another way.
    if (request.routeOptions.url === '/rpc') {
      const error =
        refusal.rpcCode === RpcErrorCode.InternalError
          ? { code: refusal.rpcCode, message: refusal.message, data: { correlationId } }
          : { code: refusal.rpcCode, message: refusal.rpcMessage ?? refusal.message };
      this.send(reply, refusal.rpcStatus ?? refusal.status, { jsonrpc: '2.0', id: null, error });
      return;
    }
    const shape = this.shapes.shaperFor(request.url);
    if (shape) {
      const shaped = shape(refusal.status, refusal.message);
      for (const [name, value] of Object.entries(shaped.headers ?? {})) {
        if (!reply.hasHeader(name)) void reply.header(name, value);
      }
      this.send(reply, refusal.status, shaped.body);
      return;
    }
    this.send(
      reply,
      refusal.status,
      refusal.plainBody ??
        (refusal.status === 500
          ? { statusCode: 500, message: 'Internal server error', correlationId }
          : { statusCode: refusal.status, message: refusal.message }),
    );
  }

  private classify(exception: unknown, correlationId: string): Refusal {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      // A refusal of the whole request (before any call ran) has no params to blame.
      const mapped = rpcCodeForHttpStatus(status);
      return {
        status,
        message: typeof body === 'string' ? body : exception.message,
        rpcCode:
          mapped === undefined || mapped === RpcErrorCode.InvalidParams
            ? RpcErrorCode.InvalidRequest
            : mapped,
        plainBody: typeof body === 'string' ? undefined : body,
      };
    }
    if (exception instanceof JsonBodyParseError) {
      return {
        status: 400,
        message: exception.message,
        rpcCode: RpcErrorCode.ParseError,
        rpcStatus: 200,
        rpcMessage: 'Parse error',
      };
    }
    const fastifyError = exception as FastifyLikeError;
    if (typeof fastifyError.code === 'string' && fastifyError.code.startsWith('FST_ERR_CTP_')) {
      const message =
        fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'Request body is too large'
          : fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'Content-Type must be application/json'
            : 'Invalid request body';
      return {
        status: fastifyError.statusCode ?? 400,
        message,
        rpcCode: RpcErrorCode.InvalidRequest,
      };
    }
    this.logger.error({ err: exception, correlationId }, 'unhandled HTTP error');
    return { status: 500, message: 'Internal error', rpcCode: RpcErrorCode.InternalError };
  }

  private send(reply: FastifyReply, status: number, body: unknown): void {
    void reply.status(status).type('application/json').send(JSON.stringify(body));
  }
}
