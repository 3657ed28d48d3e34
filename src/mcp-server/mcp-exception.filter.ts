import {
  Catch,
  Injectable,
  UnauthorizedException,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerChallenge, InvalidTokenError } from '../core/auth/invalid-token.error.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { RpcErrorCode } from '../core/rpc/rpc-error-code.js';
import { McpRefusal } from './mcp-refusal.js';
import { mcpResourceUrls } from './mcp-resource.urls.js';

/**
 * Writes /mcp refusals, the one place they are mapped: McpRefusal with its status, and the
 * global JwtAuthGuard's 401 (and a request that reached /mcp without the guard's caller). The guard's Bearer challenge is kept and extended with the
 * protected-resource metadata URL, which is how an MCP client finds where to get a token
 * (MCP authorization, RFC 9728 §5.1). Bodies are JSON-RPC errors, like /rpc's.
 */
@Injectable()
@Catch(McpRefusal, UnauthorizedException, InvalidTokenError)
export class McpExceptionFilter implements ExceptionFilter {
  constructor(private readonly config: GatewayConfig) {}

  catch(
    exception: McpRefusal | UnauthorizedException | InvalidTokenError,
    host: ArgumentsHost,
  ): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { metadata } = mcpResourceUrls(this.config, request);
    const resourceMetadata = `resource_metadata="${metadata}"`;

    if (exception instanceof McpRefusal) {
      for (const [name, value] of Object.entries(exception.headers)) void reply.header(name, value);
      if (exception.insufficientScope !== undefined) {
        void reply.header(
          'www-authenticate',
          `Bearer error="insufficient_scope", scope="${exception.insufficientScope}", ${resourceMetadata}`,
        );
      }
      this.send(
        reply,
        request,
        exception.status,
        exception.code,
        exception.message,
        exception.data,
      );
      return;
    }

    // The guard set its challenge before throwing; a request refused here (no caller from the guard) has none.
    const challenge =
      exception instanceof InvalidTokenError
        ? bearerChallenge(exception)
        : reply.getHeader('www-authenticate');
    void reply.header(
      'www-authenticate',
      typeof challenge === 'string' && challenge.startsWith('Bearer')
        ? `${challenge}, ${resourceMetadata}`
        : `Bearer ${resourceMetadata}`,
    );
    this.send(reply, request, 401, RpcErrorCode.Unauthenticated, exception.message);
  }

  private send(
    reply: FastifyReply,
    request: FastifyRequest,
    status: number,
    code: RpcErrorCode,
    message: string,
    data?: Record<string, unknown>,
  ): void {
    void reply
      .status(status)
      .header('cache-control', 'no-store')
      .type('application/json')
      .send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: requestId(request.body),
          error: { code, message, ...(data !== undefined ? { data } : {}) },
        }),
      );
  }
}

/** The id of a single JSON-RPC request in the body, so the client can match the error. */
function requestId(body: unknown): string | number | null {
  const id = (body as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}
