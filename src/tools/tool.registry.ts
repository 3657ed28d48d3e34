import { Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { ValidateFunction } from 'ajv';
import { performance } from 'node:perf_hooks';
import type { Caller } from '../core/identity/caller.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { GatewayException } from '../core/errors/gateway.exception.js';
import { jsonBytes } from '../core/validation/json-bytes.js';
import { TracingService } from '../core/tracing/tracing.service.js';
import { ClockNowTool } from './clock-now.tool.js';
import { EchoTool } from './echo.tool.js';
import { GatewayTool } from './tool.decorator.js';
import { ToolSchemaValidator } from './tool-schema.validator.js';
import { ToolFailedException, ToolNotFoundException } from './tool.exception.js';
import type { Tool, ToolDescriptor, ToolOutput, ToolResult } from './tool.types.js';

export interface ToolExecuteOptions {
  caller?: Caller;
  sessionKey?: string;
  /** Cancels the call (client gone, session ended, shutdown). */
  signal?: AbortSignal;
  /** Overrides `config.tools.timeout` for this call. */
  timeoutMs?: number;
  /**
   * Set when the call is recorded in a session (`sessions.maxEventBytes`): arguments whose JSON
   * is larger are refused before the tool runs, and a larger result fails the call.
   */
  maxEventBytes?: number;
}

interface RegisteredTool {
  tool: Tool;
  validateInput: ValidateFunction;
  validateOutput?: ValidateFunction;
}

const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Every tool the gateway can run: built-ins, `@GatewayTool()` providers found at boot, and tools
 * registered at run time (MCP servers). Arguments are validated against the tool's schema (the
 * validator is compiled once, at registration), the timeout is enforced, and whatever a tool
 * throws becomes a safe domain error.
 */
@Injectable()
export class ToolRegistry implements OnModuleInit {
  private readonly logger = new Logger(ToolRegistry.name);
  private readonly tools = new Map<string, RegisteredTool>();
  private readonly changeListeners = new Set<() => void>();
  /** `list()`'s answer until the next register or unregister: every turn asks for it. */
  private listed?: readonly ToolDescriptor[];
  private readonly schemas = new ToolSchemaValidator(this.logger);
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly config: GatewayConfig,
    @Optional() private readonly tracing?: TracingService,
  ) {}

  onModuleInit(): void {
    this.add(new EchoTool(), true);
    this.add(new ClockNowTool(), true);
    for (const wrapper of this.discovery.getProviders({ metadataKey: GatewayTool.KEY })) {
      const instance: unknown = wrapper.instance;
      if (!isTool(instance)) {
        throw new Error(
          `@GatewayTool() provider ${String(wrapper.name)} does not implement Tool (name, description, inputSchema, source, execute)`,
        );
      }
      this.register(instance);
    }
    this.logger.log(`${this.tools.size} tools registered`);
  }

  /** Adds a tool; a duplicate name, a bad name or an uncompilable schema is refused. */
  register(tool: Tool): void {
    this.add(tool, false);
  }

  /**
   * `builtIn` (the gateway's own tools, whose specs check their schemas) skips checking the
   * schemas against the JSON Schema meta-schema.
   */
  private add(tool: Tool, builtIn: boolean): void {
    if (!TOOL_NAME.test(tool.name)) {
      throw new Error(`Tool name "${tool.name}" must match ${String(TOOL_NAME)}`);
    }
    if (this.tools.has(tool.name)) {
      throw new Error(`Duplicate tool "${tool.name}" (from ${tool.source})`);
    }
    if (tool.inputSchema?.type !== 'object') {
      throw new Error(`Tool "${tool.name}": inputSchema must be a JSON Schema of type "object"`);
    }
    this.tools.set(tool.name, {
      tool,
      validateInput: this.schemas.compile(tool.name, 'inputSchema', tool.inputSchema, builtIn),
      validateOutput: tool.outputSchema
        ? this.schemas.compile(tool.name, 'outputSchema', tool.outputSchema, builtIn)
        : undefined,
    });
    this.changed();
  }

  /** Removes a tool (an MCP server that went away); false when there was none. */
  unregister(name: string): boolean {
    const entry = this.tools.get(name);
    if (!entry) return false;
    this.schemas.remove(entry.validateInput);
    if (entry.validateOutput) this.schemas.remove(entry.validateOutput);
    this.tools.delete(name);
    this.changed();
    return true;
  }

  /**
   * Calls `listener` after every register and unregister (MCP clients are told their tool list
   * changed); returns the unsubscribe function. Listeners must not throw; one that does is logged.
   */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  has(name: string): boolean {
    return this.tools.has(name);
  }

  /** Public descriptors, by name; shared between callers, so read-only. */
  list(): readonly ToolDescriptor[] {
    this.listed ??= Object.freeze(
      [...this.tools.values()]
        .map(({ tool }) => describeTool(tool))
        .sort((a, b) => a.name.localeCompare(b.name)),
    );
    return this.listed;
  }

  /** The descriptor of one tool; throws ToolNotFoundException. */
  describe(name: string): ToolDescriptor {
    return describeTool(this.entry(name).tool);
  }

  /**
   * Checks arguments without running anything (throws ToolNotFoundException or
   * ToolInvalidArgumentsException), so that a caller can refuse bad input before recording it.
   */
  validateArguments(name: string, args: unknown, maxBytes?: number): Record<string, unknown> {
    return this.schemas.checkArguments(name, this.entry(name).validateInput, args, maxBytes);
  }

  /**
   * Runs a tool. A result with `isError: true` is returned as it is; a throw, a timeout or a
   * malformed result becomes ToolFailedException with a message safe for the caller.
   */
  async execute(
    name: string,
    args: unknown,
    options: ToolExecuteOptions = {},
  ): Promise<ToolResult> {
    const tracer = this.tracing?.tracer;
    // Unknown names get no span: span names stay the registry's, not whatever a caller sent.
    if (!tracer || !this.tools.has(name)) return this.run(name, args, options);
    const span = tracer.startSpan(`execute_tool ${name}`, 'internal', {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': name,
      'gen_ai.tool.type': this.entry(name).tool.source.startsWith('mcp:')
        ? 'extension'
        : 'function',
    });
    return tracer.run(span, async () => {
      const result = await this.run(name, args, options);
      if (result.isError) tracer.fail(span, 'tool_error');
      return result;
    });
  }

  private async run(name: string, args: unknown, options: ToolExecuteOptions): Promise<ToolResult> {
    const entry = this.entry(name);
    const validArgs = this.schemas.checkArguments(
      name,
      entry.validateInput,
      args,
      options.maxEventBytes,
    );
    const timeoutMs = options.timeoutMs ?? this.config.tools.timeout;
    const started = performance.now();
    const output = await this.runWithDeadline(entry.tool, validArgs, options, timeoutMs);
    const result = this.schemas.checkOutput(name, entry.validateOutput, output);
    if (options.maxEventBytes !== undefined) {
      const size = jsonBytes(result);
      if (size > options.maxEventBytes) {
        throw new ToolFailedException(
          name,
          `Tool "${name}" result too large (${size} bytes > ${options.maxEventBytes})`,
          'too-large',
        );
      }
    }
    return { ...result, durationMs: Math.round((performance.now() - started) * 100) / 100 };
  }

  private changed(): void {
    this.listed = undefined;
    for (const listener of this.changeListeners) {
      try {
        listener();
      } catch (error) {
        this.logger.warn(`Tool list listener threw: ${describeError(error)}`);
      }
    }
  }

  private entry(name: string): RegisteredTool {
    const entry = this.tools.get(name);
    if (!entry) throw new ToolNotFoundException(name);
    return entry;
  }

  private runWithDeadline(
    tool: Tool,
    args: Record<string, unknown>,
    options: ToolExecuteOptions,
    timeoutMs: number,
  ): Promise<ToolOutput> {
    const deadline = new AbortController();
    const signal = options.signal
      ? AbortSignal.any([options.signal, deadline.signal])
      : deadline.signal;
    return new Promise<ToolOutput>((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onCancel);
        return true;
      };
      const fail = (error: GatewayException): void => {
        if (settle()) reject(error);
      };
      const onCancel = (): void => {
        fail(new ToolFailedException(tool.name, `Tool "${tool.name}" was cancelled`, 'cancelled'));
        deadline.abort(new Error('tool call cancelled'));
      };
      const timer = setTimeout(() => {
        fail(
          new ToolFailedException(
            tool.name,
            `Tool "${tool.name}" timed out after ${timeoutMs} ms`,
            'timeout',
          ),
        );
        deadline.abort(new Error('tool timeout'));
      }, timeoutMs);
      if (options.signal?.aborted) return onCancel();
      options.signal?.addEventListener('abort', onCancel, { once: true });

      // The executor turns a synchronous throw of `execute` into a rejection.
      new Promise<ToolOutput>((run) =>
        run(tool.execute(args, { signal, caller: options.caller, sessionKey: options.sessionKey })),
      ).then(
        (output) => {
          if (settle()) resolve(output);
        },
        (error: unknown) => {
          // After a timeout or a cancellation the call is answered already; what the tool
          // throws while it stops is expected.
          if (settled) return;
          if (error instanceof GatewayException) return fail(error);
          this.logger.warn(`Tool "${tool.name}" threw: ${describeError(error)}`);
          fail(new ToolFailedException(tool.name, `Tool "${tool.name}" failed`, 'error'));
        },
      );
    });
  }
}

function describeTool(tool: Tool): ToolDescriptor {
  const descriptor: ToolDescriptor = {
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema,
    source: tool.source,
  };
  if (tool.outputSchema) descriptor.outputSchema = tool.outputSchema;
  if (tool.annotations) descriptor.annotations = tool.annotations;
  return descriptor;
}

function isTool(value: unknown): value is Tool {
  if (typeof value !== 'object' || value === null) return false;
  const tool = value as Partial<Tool>;
  return (
    typeof tool.name === 'string' &&
    typeof tool.description === 'string' &&
    typeof tool.source === 'string' &&
    typeof tool.inputSchema === 'object' &&
    typeof tool.execute === 'function'
  );
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
