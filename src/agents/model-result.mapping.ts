import type { FinishReason as ModelFinishReason, JSONValue, ToolResultPart } from 'ai';
import type { ToolResult } from '../tools/tool.types.js';
import type { AgentUsage, FinishReason } from './agent.types.js';

// What the AI SDK reports, mapped to the gateway's agent events, and tool results mapped back.

export function errorResult(message: string): ToolResult {
  return { content: [{ type: 'text', text: message }], isError: true, durationMs: 0 };
}

export function toModelOutput(result: ToolResult): ToolResultPart['output'] {
  const text = result.content
    .flatMap((block) => (block.type === 'text' ? [block.text] : []))
    .join('\n');
  if (result.isError) return { type: 'error-text', value: text || 'The tool failed' };
  if (text.length > 0) return { type: 'text', value: text };
  return { type: 'json', value: toJsonValue(result.structuredContent ?? {}) };
}

export function toFinishReason(reason: ModelFinishReason): FinishReason {
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

export function toUsage(usage: {
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

export function withUsage(usage: AgentUsage | undefined): { usage?: AgentUsage } {
  return usage === undefined ? {} : { usage };
}

/** Tool output is JSON already (it came over JSON-RPC or from a tool's plain object). */
function toJsonValue(value: Record<string, unknown>): JSONValue {
  return JSON.parse(JSON.stringify(value)) as JSONValue;
}

export function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
