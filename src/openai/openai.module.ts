import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module.js';
import { AuthModule } from '../core/auth/auth.module.js';
import { RpcModule } from '../core/rpc/rpc.module.js';
import { ChatCompletionValidator } from './chat-completion.validator.js';
import { ChatCompletionsService } from './chat-completions.service.js';
import { OpenAiErrorShaper } from './openai-error.shaper.js';
import { OpenAiRateLimitGuard } from './openai-rate-limit.guard.js';
import { OpenAiController } from './openai.controller.js';
import { SessionTurnTaps } from './session-turn.taps.js';

/**
 * The OpenAI-compatible front at /v1: `GET /v1/models` and `POST /v1/chat/completions`, a
 * translation onto AgentRegistry and SessionService (SessionsModule is global, as is the event
 * bus and the rate-limit store), under the same auth, limits and metrics as JSON-RPC.
 */
@Module({
  imports: [AgentsModule, AuthModule, RpcModule],
  controllers: [OpenAiController],
  providers: [
    ChatCompletionsService,
    ChatCompletionValidator,
    OpenAiRateLimitGuard,
    OpenAiErrorShaper,
    SessionTurnTaps,
  ],
})
export class OpenAiModule {}
