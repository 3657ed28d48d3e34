import { wrapLanguageModel, type LanguageModel } from 'ai';
import type { GatewayTracer } from '../core/tracing/gateway-tracer.js';
import type { AgentConfig } from './agent-config.js';
import { modelCallTracing, tracedFetch } from './model-call.tracing.js';

/**
 * Builds the AI SDK model of an agent; the API key comes only from the variable it names. Each
 * provider's SDK is imported here, on first use: a gateway without LLM agents (the default) never
 * loads one, and one with only an Anthropic agent never loads OpenAI's.
 */
export async function createLanguageModel(
  config: AgentConfig,
  env: NodeJS.ProcessEnv = process.env,
  tracer?: GatewayTracer,
): Promise<LanguageModel> {
  if (!tracer) return createProviderModel(config, env);
  // With tracing on: a span per model call, and its traceparent on the provider's request.
  return wrapLanguageModel({
    model: await createProviderModel(config, env, tracedFetch(tracer)),
    middleware: modelCallTracing(tracer, config.provider),
  });
}

async function createProviderModel(
  config: AgentConfig,
  env: NodeJS.ProcessEnv,
  fetch?: typeof globalThis.fetch,
) {
  const apiKey = config.apiKeyEnv === undefined ? undefined : env[config.apiKeyEnv];
  switch (config.provider) {
    case 'openai-compatible': {
      const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
      // No key at all is normal for local servers (Ollama, LM Studio).
      return createOpenAICompatible({
        name: config.id,
        baseURL: config.baseUrl ?? '',
        apiKey,
        includeUsage: true,
        fetch,
      }).chatModel(config.model);
    }
    // An empty key and an explicit root, not undefined: the SDK would otherwise read
    // OPENAI_API_KEY / ANTHROPIC_API_KEY itself, and OPENAI_BASE_URL / ANTHROPIC_BASE_URL,
    // which could send the key to a host no config names.
    case 'openai': {
      const { createOpenAI } = await import('@ai-sdk/openai');
      return createOpenAI({
        apiKey: apiKey ?? '',
        baseURL: config.baseUrl ?? 'https://api.openai.com/v1',
        fetch,
      })(config.model);
    }
    case 'anthropic': {
      const { createAnthropic } = await import('@ai-sdk/anthropic');
      return createAnthropic({
        apiKey: apiKey ?? '',
        baseURL: config.baseUrl ?? 'https://api.anthropic.com/v1',
        fetch,
      })(config.model);
    }
  }
}
