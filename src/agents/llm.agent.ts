import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import {
  APICallError,
  dynamicTool,
  jsonSchema,
  stepCountIs,
  streamText,
  type FinishReason as ModelFinishReason,
  type JSONValue,
  type LanguageModel,
  type ModelMessage,
  type ToolResultPart,
  type ToolSet,
} from 'ai';
import { GatewayException } from '../core/errors/gateway.exception.js';
import type { ToolResult } from '../tools/tool.types.js';
import type { AgentConfig } from './agent-config.js';
import type {
  Agent,
  AgentEvent,
  AgentRunInput,
  AgentUsage,
  ConversationMessage,
  FinishReason,
} from './agent.types.js';

/** Builds the AI SDK model of an agent; the API key comes only from the variable it names. */
export function createLanguageModel(
  config: AgentConfig,
  env: NodeJS.ProcessEnv = process.env,
): LanguageModel {
  const apiKey = config.apiKeyEnv === undefined ? undefined : env[config.apiKeyEnv];
  switch (config.provider) {
    case 'openai-compatible':
      // No key at all is normal for local servers (Ollama, LM Studio).
      return createOpenAICompatible({
        name: config.id,
        baseURL: config.baseUrl ?? '',
        apiKey,
        includeUsage: true,
      }).chatModel(config.model);
    // An empty key and an explicit root, not undefined: the SDK would otherwise read
    // OPENAI_API_KEY / ANTHROPIC_API_KEY itself, and OPENAI_BASE_URL / ANTHROPIC_BASE_URL,
    // which could send the key to a host no config names.
    case 'openai':
      return createOpenAI({
        apiKey: apiKey ?? '',
        baseURL: config.baseUrl ?? 'https://api.openai.com/v1',
      })(config.model);
    case 'anthropic':
      return createAnthropic({
        apiKey: apiKey ?? '',
        baseURL: config.baseUrl ?? 'https://api.anthropic.com/v1',
      })(config.model);
  }
}

/**
 * An agent backed by an LLM through the AI SDK: a multi-step loop in which the model may call
 * the tools of the run (executed by the ToolRegistry through `input.executeTool`), streamed as
 * agent events. Provider failures become an `error` event with a safe message.
 */
export class LlmAgent implements Agent {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly provider: string;
  readonly model: string;
  readonly tools?: readonly string[];

  constructor(
    private readonly config: AgentConfig,
    private readonly languageModel: LanguageModel = createLanguageModel(config),
  ) {
    this.id = config.id;
    this.name = config.name ?? config.id;
    this.description = config.description ?? `${config.model} via ${config.provider}`;
    this.provider = config.provider;
    this.model = config.model;
    if (config.tools !== undefined) this.tools = [...config.tools];
  }

  async *run(input: AgentRunInput, signal: AbortSignal): AsyncGenerator<AgentEvent> {
    const { config } = this;
    const names = new ModelToolNames();
    // Fires when the provider stays silent for `timeout` ms; reset by every streamed part.
    const idle = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let toolsRunning = 0;
    const arm = (): void => {
      clearTimeout(timer);
      if (toolsRunning > 0 || idle.signal.aborted) return;
      timer = setTimeout(() => idle.abort(new Error('provider timeout')), config.timeout);
    };
    const allowed = input.tools.filter(
      (tool) => config.tools === undefined || config.tools.includes(tool.name),
    );
    const tools: ToolSet = {};
    for (const descriptor of allowed) {
      const tool = dynamicTool({
        description: descriptor.description,
        inputSchema: jsonSchema(descriptor.inputSchema),
        execute: async (args, options) => {
          // A tool has its own timeout: the provider's silence meanwhile is not a stall.
          toolsRunning++;
          clearTimeout(timer);
          try {
            return await runTool(input, descriptor.name, args, options.abortSignal ?? signal);
          } finally {
            toolsRunning--;
            arm();
          }
        },
        toModelOutput: ({ output }) => toModelOutput(output as ToolResult),
      });
      // OpenAI's Responses API makes a function strict unless told otherwise, rewriting optional
      // parameters as required (models then fill them with ""); tools' schemas are not written
      // for that, and the registry validates arguments anyway.
      tools[names.toModel(descriptor.name)] =
        config.provider === 'openai' ? { ...tool, strict: false } : tool;
    }

    const result = streamText({
      model: this.languageModel,
      system: config.system,
      messages: toModelMessages(trimToBudget(input.messages, config.contextBudget), names),
      tools: allowed.length > 0 ? tools : undefined,
      stopWhen: stepCountIs(config.maxSteps),
      temperature: config.temperature,
      maxOutputTokens: config.maxOutputTokens,
      maxRetries: config.maxRetries,
      // The session log is the record; OpenAI keeps no copy (its default is to store responses
      // for 30 days). Each request carries the whole conversation, so nothing depends on it.
      ...(config.provider === 'openai' ? { providerOptions: { openai: { store: false } } } : {}),
      abortSignal: AbortSignal.any([signal, idle.signal]),
      // Errors arrive as `error` parts below; the default handler would print them.
      onError: () => undefined,
    });

    let stepText = '';
    let lastStepReason: ModelFinishReason = 'stop';
    let usage: AgentUsage | undefined;
    arm();
    try {
      for await (const part of result.fullStream) {
        arm();
        switch (part.type) {
          case 'start-step':
            stepText = '';
            break;
          case 'text-delta':
            if (part.text.length === 0) break;
            stepText += part.text;
            yield { type: 'text-delta', delta: part.text };
            break;
          case 'tool-call':
            yield {
              type: 'tool-call',
              toolCallId: part.toolCallId,
              name: names.fromModel(part.toolName),
              arguments: asRecord(part.input),
              ...(stepText ? { text: stepText } : {}),
            };
            // The step's text now belongs to its calls; the final answer is a later step's.
            stepText = '';
            break;
          case 'tool-result':
            yield {
              type: 'tool-result',
              toolCallId: part.toolCallId,
              name: names.fromModel(part.toolName),
              result: part.output as ToolResult,
            };
            break;
          case 'tool-error':
            // runTool turns failures into results; what is left is a call of an unknown tool
            // or arguments the model could not form.
            yield {
              type: 'tool-result',
              toolCallId: part.toolCallId,
              name: names.fromModel(part.toolName),
              result: errorResult(`Tool "${names.fromModel(part.toolName)}" could not be called`),
            };
            break;
          case 'finish-step':
            lastStepReason = part.finishReason;
            break;
          case 'finish':
            usage = toUsage(part.totalUsage);
            break;
          case 'abort':
            break;
          case 'error':
            if (signal.aborted) break;
            yield idle.signal.aborted ? this.timeoutError() : toErrorEvent(part.error);
            return;
          default:
            break;
        }
        if (signal.aborted || idle.signal.aborted) break;
      }
    } catch (error) {
      if (!signal.aborted) {
        yield idle.signal.aborted ? this.timeoutError() : toErrorEvent(error);
        return;
      }
    } finally {
      clearTimeout(timer);
    }

    if (signal.aborted) {
      yield { type: 'finish', content: stepText, finishReason: 'cancelled', ...withUsage(usage) };
    } else if (idle.signal.aborted) {
      yield this.timeoutError();
    } else {
      yield {
        type: 'finish',
        content: stepText,
        finishReason: toFinishReason(lastStepReason),
        ...withUsage(usage),
      };
    }
  }

  private timeoutError(): AgentEvent {
    return {
      type: 'error',
      message: `Agent "${this.id}": the provider sent nothing for ${this.config.timeout} ms`,
      retryable: true,
    };
  }
}

/**
 * Runs a tool through the session's executor. Refusals and failures become an error result the
 * model can read and the session records, rather than an exception that would end the turn.
 */
async function runTool(
  input: AgentRunInput,
  name: string,
  args: unknown,
  signal: AbortSignal,
): Promise<ToolResult> {
  try {
    return await input.executeTool(name, asRecord(args), signal);
  } catch (error) {
    if (error instanceof GatewayException) return errorResult(error.message);
    throw error;
  }
}

function errorResult(message: string): ToolResult {
  return { content: [{ type: 'text', text: message }], isError: true, durationMs: 0 };
}

function toModelOutput(result: ToolResult): ToolResultPart['output'] {
  const text = result.content
    .flatMap((block) => (block.type === 'text' ? [block.text] : []))
    .join('\n');
  if (result.isError) return { type: 'error-text', value: text || 'The tool failed' };
  if (text.length > 0) return { type: 'text', value: text };
  return { type: 'json', value: toJsonValue(result.structuredContent ?? {}) };
}

/**
 * Registry names allow `.` (MCP's `<server>.<tool>`), which OpenAI's function names refuse: the
 * model sees `[A-Za-z0-9_-]` names, mapped back here.
 */
class ModelToolNames {
  private readonly toRegistry = new Map<string, string>();
  private readonly toModelName = new Map<string, string>();

  toModel(name: string): string {
    const known = this.toModelName.get(name);
    if (known !== undefined) return known;
    const base = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 60);
    let candidate = base;
    for (let n = 2; this.toRegistry.has(candidate); n++) candidate = `${base}_${n}`;
    this.toRegistry.set(candidate, name);
    this.toModelName.set(name, candidate);
    return candidate;
  }

  fromModel(name: string): string {
    return this.toRegistry.get(name) ?? name;
  }
}

/**
 * Drops the oldest turns (a user message and what followed it) until the conversation fits
 * `budget` characters; the latest turn is always kept, and the system prompt is not counted.
 */
export function trimToBudget(
  messages: ConversationMessage[],
  budget: number | undefined,
): ConversationMessage[] {
  if (budget === undefined) return messages;
  const size = (message: ConversationMessage): number =>
    message.content.length +
    (message.role === 'assistant' && message.toolCalls
      ? JSON.stringify(message.toolCalls).length
      : 0);
  let total = messages.reduce((sum, message) => sum + size(message), 0);
  let start = 0;
  while (total > budget) {
    let next = start + 1;
    while (next < messages.length && messages[next].role !== 'user') next++;
    if (next >= messages.length) break;
    for (let i = start; i < next; i++) total -= size(messages[i]);
    start = next;
  }
  return messages.slice(start);
}

function toModelMessages(messages: ConversationMessage[], names: ModelToolNames): ModelMessage[] {
  // A tool message whose call was trimmed away would be refused by providers.
  const calls = new Set<string>();
  const out: ModelMessage[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'user':
        out.push({ role: 'user', content: message.content });
        break;
      case 'assistant':
        if (!message.toolCalls?.length) {
          out.push({ role: 'assistant', content: message.content });
          break;
        }
        for (const call of message.toolCalls) calls.add(call.toolCallId);
        out.push({
          role: 'assistant',
          content: [
            ...(message.content ? [{ type: 'text' as const, text: message.content }] : []),
            ...message.toolCalls.map((call) => ({
              type: 'tool-call' as const,
              toolCallId: call.toolCallId,
              toolName: names.toModel(call.name),
              input: call.arguments,
            })),
          ],
        });
        break;
      case 'tool':
        if (!calls.has(message.toolCallId)) break;
        out.push({
          role: 'tool',
          content: [
            {
              type: 'tool-result',
              toolCallId: message.toolCallId,
              toolName: names.toModel(message.name),
              output: message.isError
                ? { type: 'error-text', value: message.content || 'The tool failed' }
                : { type: 'text', value: message.content },
            },
          ],
        });
        break;
    }
  }
  return out;
}

function toFinishReason(reason: ModelFinishReason): FinishReason {
  switch (reason) {
    case 'length':
      return 'length';
    case 'tool-calls':
      return 'tool_calls';
    case 'error':
      return 'error';
    default:
      return 'stop';
  }
}

function toUsage(usage: {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
}): AgentUsage {
  const result: AgentUsage = {};
  if (usage.inputTokens !== undefined) result.inputTokens = usage.inputTokens;
  if (usage.outputTokens !== undefined) result.outputTokens = usage.outputTokens;
  if (usage.totalTokens !== undefined) result.totalTokens = usage.totalTokens;
  return result;
}

function withUsage(usage: AgentUsage | undefined): { usage?: AgentUsage } {
  return usage === undefined ? {} : { usage };
}

/** A provider failure as a message safe to store and show: no bodies, no keys, no URLs. */
function toErrorEvent(error: unknown): AgentEvent {
  const cause =
    error instanceof Error && 'lastError' in error
      ? (error as { lastError: unknown }).lastError
      : error;
  if (APICallError.isInstance(cause)) {
    const status = cause.statusCode;
    const retryable = status === undefined || status >= 500 || status === 429 || status === 408;
    return {
      type: 'error',
      message:
        status === undefined
          ? 'The provider could not be reached'
          : `The provider answered HTTP ${status}`,
      retryable,
    };
  }
  const streamed = streamedProviderError(cause);
  if (streamed !== undefined) {
    return { type: 'error', message: 'The provider failed while answering', ...streamed };
  }
  if (cause instanceof TypeError && /fetch|network|socket/i.test(cause.message)) {
    return { type: 'error', message: 'The provider could not be reached', retryable: true };
  }
  return { type: 'error', message: 'The provider sent a malformed response', retryable: false };
}

/** Error types of a failure on the provider's side (Anthropic's, and OpenAI's 5xx type). */
const RETRYABLE_STREAM_ERRORS = new Set([
  'overloaded_error',
  'api_error',
  'rate_limit_error',
  'timeout_error',
  'server_error',
]);

/**
 * An error the provider sent inside a stream that had already begun. The SDKs pass it on as a
 * plain object, not an APICallError: Anthropic's `error` event as `{ type, message }`, OpenAI's
 * `error` / `response.failed` events as `{ message, statusCode, isRetryable, … }`.
 */
function streamedProviderError(value: unknown): { retryable: boolean } | undefined {
  if (typeof value !== 'object' || value === null || value instanceof Error) return undefined;
  const error = value as { type?: unknown; message?: unknown; isRetryable?: unknown };
  if (typeof error.message !== 'string') return undefined;
  if (typeof error.isRetryable === 'boolean') return { retryable: error.isRetryable };
  if (typeof error.type === 'string') return { retryable: RETRYABLE_STREAM_ERRORS.has(error.type) };
  return undefined;
}

/** Tool output is JSON already (it came over JSON-RPC or from a tool's plain object). */
function toJsonValue(value: Record<string, unknown>): JSONValue {
  return JSON.parse(JSON.stringify(value)) as JSONValue;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
