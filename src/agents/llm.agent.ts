import {
  dynamicTool,
  jsonSchema,
  stepCountIs,
  streamText,
  type FinishReason as ModelFinishReason,
  type LanguageModel,
  type ToolSet,
} from 'ai';
import { GatewayException } from '../core/errors/gateway.exception.js';
import type { GatewayTracer } from '../core/tracing/gateway-tracer.js';
import type { ToolResult } from '../tools/tool.types.js';
import type { AgentConfig } from './agent-config.js';
import type { Agent, AgentBudgets, AgentEvent, AgentRunInput, AgentUsage } from './agent.types.js';
import { createLanguageModel } from './language-model.factory.js';
import {
  asRecord,
  errorResult,
  toFinishReason,
  toModelOutput,
  toUsage,
  withUsage,
} from './model-result.mapping.js';
import { toModelMessages, trimToBudget } from './model-messages.js';
import { ModelToolNames } from './model-tool-names.js';
import { toErrorEvent } from './provider-error.classifier.js';
import { stepTokens, tokenBudgetReached } from './token-budget.stop.js';

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
  readonly budgets?: AgentBudgets;

  /** Made on the first run when the constructor is not given one (see `create`). */
  private languageModel?: Promise<LanguageModel>;

  /**
   * An agent with its provider's SDK loaded now, so that boot reports a broken install. With a
   * tracer, each model call is a span and the provider's requests carry its traceparent.
   */
  static async create(
    config: AgentConfig,
    env?: NodeJS.ProcessEnv,
    tracer?: GatewayTracer,
  ): Promise<LlmAgent> {
    return new LlmAgent(config, await createLanguageModel(config, env, tracer));
  }

  constructor(
    private readonly config: AgentConfig,
    languageModel?: LanguageModel,
  ) {
    if (languageModel !== undefined) this.languageModel = Promise.resolve(languageModel);
    this.id = config.id;
    this.name = config.name ?? config.id;
    this.description = config.description ?? `${config.model} via ${config.provider}`;
    this.provider = config.provider;
    this.model = config.model;
    if (config.tools !== undefined) this.tools = [...config.tools];
    if (config.budgets !== undefined) this.budgets = config.budgets;
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
            const toolSignal = options.abortSignal ?? signal;
            return await runTool(input, descriptor.name, args, toolSignal, options.toolCallId);
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

    this.languageModel ??= createLanguageModel(config);
    const result = streamText({
      model: await this.languageModel,
      system: config.system,
      messages: toModelMessages(trimToBudget(input.messages, config.contextBudget), names),
      tools: allowed.length > 0 ? tools : undefined,
      // With a budget, the loop also stops between steps once the steps' usage reaches it.
      stopWhen:
        input.tokenBudget === undefined
          ? stepCountIs(config.maxSteps)
          : [stepCountIs(config.maxSteps), tokenBudgetReached(input.tokenBudget)],
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
    let spent = 0;
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
            spent += stepTokens(part.usage);
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
      // A run that wanted to go on calling tools but had spent its budget stopped for that.
      const overBudget =
        lastStepReason === 'tool-calls' &&
        input.tokenBudget !== undefined &&
        spent >= input.tokenBudget;
      yield {
        type: 'finish',
        content: stepText,
        finishReason: overBudget ? 'budget_exceeded' : toFinishReason(lastStepReason),
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
  toolCallId: string,
): Promise<ToolResult> {
  try {
    return await input.executeTool(name, asRecord(args), signal, toolCallId);
  } catch (error) {
    if (error instanceof GatewayException) return errorResult(error.message);
    throw error;
  }
}
