import type { ToolCall } from '../agents/agent.types.js';
import type { ToolResult } from '../tools/tool.types.js';
import type { NewEvent } from './session.types.js';

/** The `tool.result` of a call the turn's cancellation stopped before it answered. */
export function cancelledResult(messageId: string, call: ToolCall): NewEvent {
  const text = `Tool "${call.name}" was cancelled`;
  const result: ToolResult = { content: [{ type: 'text', text }], isError: true, durationMs: 0 };
  return {
    type: 'tool.result',
    data: { messageId, toolCallId: call.toolCallId, name: call.name, result },
  };
}

/** What is stored instead of a result too large for the log: a failure that says why. */
export function tooLargeResult(name: string, size: number, maxBytes: number): ToolResult {
  const text = `Tool "${name}" result too large (${size} bytes > ${maxBytes})`;
  return { content: [{ type: 'text', text }], isError: true, durationMs: 0 };
}
