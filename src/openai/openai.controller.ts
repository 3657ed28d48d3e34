import {
  All,
  Controller,
  Get,
  Header,
  Logger,
  Param,
  Post,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AgentNotFoundException } from '../agents/agent.exception.js';
import { AgentRegistry } from '../agents/agent.registry.js';
import { RequireScope } from '../core/identity/route-scope.decorator.js';
import { requestCorrelationId } from '../core/logging/correlation-id.js';
import { RpcStatsService } from '../core/rpc/rpc-stats.service.js';
import { TracingService } from '../core/tracing/tracing.service.js';
import { ChatCompletionsService } from './chat-completions.service.js';
import { requestCaller } from '../core/auth/request-caller.js';
import { NO_RETRY, OpenAiError } from './openai-error.js';
import { toOpenAiModel, type OpenAiModel, type OpenAiModelList } from './openai-model.mapper.js';
import { OpenAiExceptionFilter } from './openai-exception.filter.js';
import { OpenAiRateLimitGuard, SessionTurnRoute } from './openai-rate-limit.guard.js';
import { IGNORED_MESSAGES_HEADER, SESSION_HEADER, sessionKeyOf } from './openai.headers.js';
import { SseChunkWriter } from './sse-chunk.writer.js';

/** Helmet's page headers mean nothing on an API reply (as on /rpc). */
const API_ROUTE = { helmet: { skipRoute: true } };

/**
 * The OpenAI-compatible front: the global guards authenticate (scope per route), ours counts the
 * gateway's limits, the filter answers every error in OpenAI's shape. Calls are counted in the
 * call metrics under their route.
 */
@Controller('v1')
@UseFilters(OpenAiExceptionFilter)
@UseGuards(OpenAiRateLimitGuard)
export class OpenAiController {
  private readonly logger = new Logger('OpenAI');
  /** Models have no creation date: they are as old as this process. */
  private readonly startedAt = Math.floor(Date.now() / 1000);

  constructor(
    private readonly agents: AgentRegistry,
    private readonly chat: ChatCompletionsService,
    private readonly stats: RpcStatsService,
    private readonly tracing: TracingService,
  ) {}

  @Get('models')
  @RequireScope('agents:read')
  @RouteConfig(API_ROUTE)
  @Header('cache-control', 'no-store')
  models(): Promise<OpenAiModelList> {
    return this.track('GET /v1/models', () =>
      Promise.resolve({
        object: 'list' as const,
        data: this.agents.list().map((agent) => toOpenAiModel(agent, this.startedAt)),
      }),
    );
  }

  @Get('models/:model')
  @RequireScope('agents:read')
  @RouteConfig(API_ROUTE)
  @Header('cache-control', 'no-store')
  model(@Param('model') id: string): Promise<OpenAiModel> {
    return this.track('GET /v1/models/:model', () => {
      const agent = this.agents.list().find((a) => a.id === id);
      if (!agent) throw new AgentNotFoundException(id);
      return Promise.resolve(toOpenAiModel(agent, this.startedAt));
    });
  }

  @Post('chat/completions')
  @RequireScope('sessions:write')
  @SessionTurnRoute()
  @RouteConfig(API_ROUTE)
  chatCompletions(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const route = '/v1/chat/completions';
    return this.track(`POST ${route}`, () =>
      this.tracing.inRequest('POST', route, request.headers, () => this.complete(request, reply)),
    );
  }

  private async complete(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const caller = requestCaller(request);
    const sessionKey = sessionKeyOf(request.headers[SESSION_HEADER]);
    const turn = await this.chat.prepare(caller, request.body, sessionKey);
    // Errors from here on carry the session too: the client can read what was stored.
    void reply
      .header(SESSION_HEADER, turn.sessionKey)
      .header(IGNORED_MESSAGES_HEADER, String(turn.ignoredMessages));
    const client = clientSignal(reply);
    try {
      if (turn.stream) {
        const sink = new SseChunkWriter(reply, requestCorrelationId(request), this.logger);
        await this.chat.stream(caller, turn, client.signal, sink);
      } else {
        const completion = await this.chat.complete(caller, turn, client.signal);
        await reply
          .status(200)
          .header('cache-control', 'no-store')
          .type('application/json')
          .send(JSON.stringify(completion));
      }
    } finally {
      client.dispose();
    }
  }

  /**
   * Any other path under /v1 (embeddings, responses, …) is this front's 404 in OpenAI's shape,
   * not the dashboard's history-mode fallback page.
   */
  @All('*')
  @RouteConfig(API_ROUTE)
  notServed(@Req() request: FastifyRequest): never {
    throw new OpenAiError(
      404,
      `${request.method} ${request.url.split('?')[0]} is not served: this gateway implements GET /v1/models and POST /v1/chat/completions`,
      'invalid_request_error',
      'not_found',
      null,
      NO_RETRY,
    );
  }

  /** Counted like JSON-RPC calls (openclaw_rpc_calls_total, /status), in flight for the drain. */
  private async track<T>(name: string, call: () => Promise<T>): Promise<T> {
    const startedAt = this.stats.started();
    let failed = true;
    try {
      const result = await call();
      failed = false;
      return result;
    } finally {
      this.stats.finished(name, failed, startedAt);
    }
  }
}

/**
 * Aborts when the client goes away before the answer is written: the response closes with the
 * connection (the request stream closes once its body is read, so it says nothing).
 */
function clientSignal(reply: FastifyReply): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!reply.raw.writableEnded) controller.abort(new Error('client disconnected'));
  };
  reply.raw.once('close', onClose);
  return { signal: controller.signal, dispose: () => reply.raw.off('close', onClose) };
}
