import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { AgentRegistry } from '../agents/agent.registry.js';
import { GatewayException } from '../core/errors/gateway.exception.js';
import type { RpcCallContext } from '../core/rpc/rpc-call-context.js';
import { RpcErrorCode } from '../core/rpc/rpc-error-code.js';
import { RpcMethod } from '../core/rpc/rpc-method.decorator.js';
import { SessionRecordingUnavailableException } from './tool.exception.js';
import { ToolRegistry } from './tool.registry.js';
import type { ToolRunRecorder } from './tool-run-recorder.js';
import { ToolRunRecording } from './tool-run.recording.js';
import type { ToolDescriptor, ToolResult } from './tool.types.js';
import { ToolsExecuteParams } from './tools-execute.params.js';
import { ToolsListParams } from './tools-list.params.js';

const TOOL_SCHEMA = {
  type: 'object',
  required: ['name', 'description', 'inputSchema', 'source'],
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    inputSchema: { type: 'object' },
    outputSchema: { type: 'object' },
    annotations: { type: 'object' },
    source: { type: 'string' },
  },
};

const TOOL_RESULT_SCHEMA = {
  type: 'object',
  required: ['content', 'isError', 'durationMs'],
  properties: {
    content: { type: 'array', items: { type: 'object' } },
    structuredContent: { type: 'object' },
    isError: { type: 'boolean' },
    durationMs: { type: 'number' },
  },
};

@Injectable()
export class ToolsRpc {
  constructor(
    private readonly tools: ToolRegistry,
    private readonly agents: AgentRegistry,
    private readonly recording: ToolRunRecording,
  ) {}

  private get recorder(): ToolRunRecorder | undefined {
    return this.recording.recorder;
  }

  @RpcMethod('tools.list', {
    scope: 'tools:read',
    params: ToolsListParams,
    description: 'The tools the gateway can run, or those an agent may call.',
    result: { name: 'Tool[]', schema: { type: 'array', items: TOOL_SCHEMA } },
    errors: [RpcErrorCode.NotFound],
  })
  list(params: ToolsListParams): readonly ToolDescriptor[] {
    const tools = this.tools.list();
    if (params.agentId === undefined) return tools;
    const allowed = this.agents.get(params.agentId).tools;
    return allowed === undefined ? tools : tools.filter((tool) => allowed.includes(tool.name));
  }

  @RpcMethod('tools.execute', {
    scope: 'tools:execute',
    params: ToolsExecuteParams,
    description: 'Runs a tool; with a sessionKey the call is recorded in that session.',
    result: { name: 'ToolResult', schema: TOOL_RESULT_SCHEMA },
    errors: [
      RpcErrorCode.InvalidParams,
      RpcErrorCode.NotFound,
      RpcErrorCode.Conflict,
      RpcErrorCode.ToolFailed,
    ],
  })
  async execute(params: ToolsExecuteParams, ctx: RpcCallContext): Promise<ToolResult> {
    const { name, sessionKey } = params;
    const options = { caller: ctx.caller, sessionKey, signal: ctx.signal };
    if (sessionKey === undefined) return this.tools.execute(name, params.arguments, options);

    if (!this.recorder) throw new SessionRecordingUnavailableException(sessionKey);
    // Bad input (oversize arguments too: -32602) is refused before anything is written.
    const { maxEventBytes } = this.recorder;
    const args = this.tools.validateArguments(name, params.arguments, maxEventBytes);
    const toolCallId = `call_${randomUUID()}`;
    const ended = await this.recorder.begin(ctx.caller, sessionKey, {
      toolCallId,
      name,
      arguments: args,
    });
    const started = performance.now();
    let result: ToolResult;
    try {
      result = await this.tools.execute(name, args, {
        ...options,
        signal: ended ? AbortSignal.any([ctx.signal, ended]) : ctx.signal,
        maxEventBytes,
      });
    } catch (error) {
      // The session must not keep a call without its result: record the failure, then answer it.
      const message = error instanceof GatewayException ? error.message : `Tool "${name}" failed`;
      const failed: ToolResult = {
        content: [{ type: 'text', text: message }],
        isError: true,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
      };
      await this.recorder.finish(ctx.caller, sessionKey, { toolCallId, name, result: failed });
      throw error;
    }
    await this.recorder.finish(ctx.caller, sessionKey, { toolCallId, name, result });
    return result;
  }
}
