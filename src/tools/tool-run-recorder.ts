import type { Caller } from '../core/identity/caller.js';
import type { ToolResult } from './tool.types.js';

/** A tool call as recorded in a session (`tool.call` event). */
export interface RecordedToolCall {
  toolCallId: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** A tool result as recorded in a session (`tool.result` event). */
export interface RecordedToolResult {
  toolCallId: string;
  name: string;
  result: ToolResult;
}

/**
 * Records a client's `tools.execute { sessionKey }` in that session. The sessions module
 * provides it: `begin` checks the session exists, is the caller's and is not ended (throwing
 * the sessions' own NOT_FOUND/CONFLICT exceptions) and appends `tool.call`; `finish` appends
 * `tool.result`. Every begin must be followed by a finish.
 */
export interface ToolRunRecorder {
  /** Largest event the session stores: larger arguments or results are refused. */
  readonly maxEventBytes?: number;
  /** May resolve with a signal aborted when the session ends: the call stops, then finishes. */
  begin(
    caller: Caller | undefined,
    sessionKey: string,
    call: RecordedToolCall,
  ): Promise<AbortSignal | void>;
  finish(caller: Caller | undefined, sessionKey: string, result: RecordedToolResult): Promise<void>;
}
