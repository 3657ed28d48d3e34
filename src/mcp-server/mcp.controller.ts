import { Controller, Delete, Get, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { requestCaller } from '../core/auth/request-caller.js';
import { TracingService } from '../core/tracing/tracing.service.js';
import { McpExceptionFilter } from './mcp-exception.filter.js';
import { McpHttpService } from './mcp-http.service.js';
import { MCP_PATH, mcpResourceUrls } from './mcp-resource.urls.js';

/**
 * The MCP Streamable HTTP endpoint: POST carries client messages, GET opens the stream of
 * server notifications, DELETE ends a session. Not @Public: the global guards authenticate
 * every request (a bad token is 401 and counted against the address's failure budget) before
 * a handler runs; McpExceptionFilter adds the MCP challenge to that 401.
 */
@Controller(MCP_PATH.slice(1))
@UseFilters(McpExceptionFilter)
export class McpController {
  constructor(
    private readonly mcp: McpHttpService,
    private readonly config: GatewayConfig,
    private readonly tracing: TracingService,
  ) {}

  @Post()
  post(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.serve(request, reply);
  }

  @Get()
  stream(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.serve(request, reply);
  }

  @Delete()
  end(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.serve(request, reply);
  }

  private async serve(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const caller = requestCaller(request);
    // The span covers the request until its response starts; a tool call it made is its child.
    const outcome = await this.tracing.inRequest(request.method, MCP_PATH, request.headers, () =>
      this.mcp.handle(caller, {
        method: request.method,
        url: mcpResourceUrls(this.config, request).resource,
        headers: request.headers,
        body: request.body,
      }),
    );
    reply.raw.once('close', () => outcome.done());
    // Fastify streams a web Response's body and cancels it when the client goes away. Not
    // awaited: a GET stream lasts as long as the session listens.
    void reply.send(outcome.response);
  }
}
