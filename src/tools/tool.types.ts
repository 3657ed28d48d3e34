import type { Caller } from '../core/identity/caller.js';

/** A JSON Schema document (draft-07 keywords; `$schema` is ignored). */
export type JsonSchema = Record<string, unknown>;

/** A tool's input schema: MCP requires an object schema. */
export type ToolInputSchema = JsonSchema & { type: 'object' };

/** One block of a tool's output, in MCP's shapes. */
export type ToolContent =
  | { type: 'text'; text: string }
  | { type: 'image'; data: string; mimeType: string }
  | { type: 'audio'; data: string; mimeType: string }
  | { type: 'resource_link'; uri: string; name?: string; mimeType?: string; description?: string }
  | {
      type: 'resource';
      resource: { uri: string; mimeType?: string } & ({ text: string } | { blob: string });
    };

/** MCP's hints about a tool's behaviour; clients must not trust them for security decisions. */
export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/** What a tool returns. `isError: true` is a failure the model should see, not an exception. */
export interface ToolOutput {
  content: ToolContent[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** What the registry returns (and `tools.execute` answers): the output, completed and timed. */
export interface ToolResult {
  content: ToolContent[];
  structuredContent?: Record<string, unknown>;
  isError: boolean;
  durationMs: number;
}

/** What a running tool may know about its call. */
export interface ToolExecutionContext {
  /** Aborted on timeout, on cancellation of the call, or on shutdown: stop work when it fires. */
  signal: AbortSignal;
  caller?: Caller;
  sessionKey?: string;
}

/** A tool as `tools.list` shows it: MCP's Tool shape plus where it comes from. */
export interface ToolDescriptor {
  /** Unique in the registry: letters, digits, `_`, `-` and `.` (MCP tools join as `<server>.<tool>`). */
  name: string;
  description: string;
  inputSchema: ToolInputSchema;
  outputSchema?: JsonSchema;
  annotations?: ToolAnnotations;
  /** `builtin`, `mcp:<server>` or `provider`. */
  source: string;
}

/** `tools.list` params (the params class implements it; the client library sends it). */
export interface ToolsListInput {
  agentId?: string;
}

/** `tools.execute` params. */
export interface ToolsExecuteInput {
  name: string;
  arguments?: Record<string, unknown>;
  sessionKey?: string;
}

/**
 * A tool in MCP's shape. Arguments reach `execute` already validated against `inputSchema`;
 * the registry enforces the timeout, fills `durationMs` and turns throws into safe errors.
 */
export interface Tool extends ToolDescriptor {
  execute(args: Record<string, unknown>, ctx: ToolExecutionContext): Promise<ToolOutput>;
}

/** A single text block, the common case. */
export function textContent(text: string): ToolContent {
  return { type: 'text', text };
}
