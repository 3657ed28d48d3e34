import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RpcDispatcher } from './rpc-dispatcher.js';
import type { JsonRpcResponse } from './json-rpc.types.js';
import { RpcErrorCode } from './rpc-error-code.js';
import { GatewayConfig } from '../config/gateway-config.js';
import { trustedProxies, type TrustedProxies } from './client-ip.js';
import { HttpRpcOrigin } from './http-rpc.origin.js';
import { API_SECURITY_HEADERS_ROUTE } from '../http/response-headers.hook.js';

const JSON_CONTENT_TYPE = /^application\/(json|json-rpc)\s*(;|$)/i;

/** The HTTP transport: POST /rpc. It only turns a body into a dispatch and a dispatch into a reply. */
@Controller()
export class RpcController {
  private readonly proxies: TrustedProxies;

  constructor(
    private readonly dispatcher: RpcDispatcher,
    config: GatewayConfig,
  ) {
    this.proxies = trustedProxies(config.gateway.trustedProxies);
  }

  @Post('rpc')
  @HttpCode(200)
  // Page policies (CSP, framing) mean nothing on a JSON reply: the route gets the API's own
  // headers instead (core/http/response-headers.hook.ts), wherever it is mounted.
  @RouteConfig(API_SECURITY_HEADERS_ROUTE)
  async handle(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const contentType = request.headers['content-type'] ?? '';
    if (contentType !== 'application/json' && !JSON_CONTENT_TYPE.test(contentType)) {
      await reply
        .status(415)
        .type('application/json')
        .send(
          JSON.stringify({
            jsonrpc: '2.0',
            id: null,
            error: {
              code: RpcErrorCode.InvalidRequest,
              message: 'Content-Type must be application/json',
            },
          }),
        );
      return;
    }
    const origin = new HttpRpcOrigin(request, reply, this.proxies);
    try {
      const { response, responseHeaders } = await this.dispatcher.dispatch(request.body, origin);
      for (const [name, value] of responseHeaders) void reply.header(name, value);
      if (response === undefined) {
        await reply.status(204).send();
        return;
      }
      const status = statusFor(response);
      if (status !== 200) void reply.header('retry-after', retryAfterSeconds(response));
      await reply.status(status).type('application/json').send(JSON.stringify(response));
    } finally {
      origin.release();
    }
  }
}

/**
 * A single call refused for its rate limit gets 429, one refused for an outage 503; everything
 * else answers 200 (a batch always does: its elements carry their own errors).
 */
function statusFor(response: JsonRpcResponse | JsonRpcResponse[]): number {
  if (!Array.isArray(response) && 'error' in response) {
    if (response.error.code === (RpcErrorCode.RateLimited as number)) return 429;
    // A load balancer takes 503 as "try another instance", which is the right thing to do.
    if (response.error.code === (RpcErrorCode.Unavailable as number)) return 503;
  }
  return 200;
}

/** `Retry-After` (whole seconds) for a refused call, from its `data.retryAfterMs`. */
function retryAfterSeconds(response: JsonRpcResponse | JsonRpcResponse[]): string {
  const data = !Array.isArray(response) && 'error' in response ? response.error.data : undefined;
  const ms =
    typeof data === 'object' && data !== null
      ? (data as { retryAfterMs?: unknown }).retryAfterMs
      : undefined;
  return String(typeof ms === 'number' && ms > 0 ? Math.ceil(ms / 1000) : 1);
}
