import { randomUUID } from 'node:crypto';
import type { Caller } from '../core/identity/caller.js';
import type { ToolExecuteOptions } from '../tools/tool.registry.js';
import type { ToolResult } from '../tools/tool.types.js';
import type { AppendFence } from './event-store.js';
import type { TurnConversation } from './session-conversations.js';
import type { KnownSession } from './session.directory.js';

/** How long a guarded call waits for the turn to store its tool.call before asking anyway. */
const RECORDED_WAIT_MS = 5_000;

/** What a turn hands the gate: where it writes, under which lease. */
export interface ApprovalTurn {
  caller: Caller;
  session: KnownSession;
  messageId: string;
  fence?: AppendFence;
  conversation: TurnConversation;
  /** `sessions.maxEventBytes`, for the registry's size checks of arguments and results. */
  maxEventBytes: number;
}

/** A call as the gate asks about it. */
export interface ApprovalCall {
  toolCallId: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** What TurnApprovals needs of the gate (ToolApprovalGate implements it). */
export interface ToolApprovalAsker {
  requires(agentId: string, name: string): boolean;
  ask(
    turn: ApprovalTurn,
    call: ApprovalCall,
    signal: AbortSignal,
    run: () => Promise<ToolResult>,
  ): Promise<ToolResult>;
  run(
    name: string,
    args: Record<string, unknown>,
    options: ToolExecuteOptions,
  ): Promise<ToolResult>;
}

/**
 * One turn's view of the gate. The runner tells it when a `tool.call` is stored, so that the
 * request follows its call in the log (the model's SDK starts a tool before the runner reads the
 * call from its stream).
 */
export class TurnApprovals {
  private readonly recorded = new Map<string, () => void>();
  private readonly stored = new Set<string>();

  constructor(
    private readonly gate: ToolApprovalAsker,
    private readonly turn: ApprovalTurn,
  ) {}

  /** Called by the runner once the call's tool.call event is stored. */
  called(toolCallId: string): void {
    this.stored.add(toolCallId);
    this.recorded.get(toolCallId)?.();
  }

  /** Runs the tool through the registry, asking first when the policy says so. */
  readonly executeTool = async (
    name: string,
    args: Record<string, unknown>,
    signal: AbortSignal,
    toolCallId?: string,
  ): Promise<ToolResult> => {
    const { caller, session, maxEventBytes } = this.turn;
    const run = (): Promise<ToolResult> =>
      this.gate.run(name, args, { caller, sessionKey: session.sessionKey, signal, maxEventBytes });
    if (!this.gate.requires(session.agentId, name)) return run();
    if (toolCallId !== undefined) await this.callStored(toolCallId, signal);
    // The turn failed or was cancelled before its call was stored: nobody is to be asked.
    signal.throwIfAborted();
    if (this.turn.conversation.openMessageId !== this.turn.messageId) {
      throw new Error('the turn ended before its tool call was stored');
    }
    const call = { toolCallId: toolCallId ?? `call_${randomUUID()}`, name, arguments: args };
    return this.gate.ask(this.turn, call, signal, run);
  };

  private callStored(toolCallId: string, signal: AbortSignal): Promise<void> {
    if (this.stored.has(toolCallId)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.recorded.delete(toolCallId);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, RECORDED_WAIT_MS);
      this.recorded.set(toolCallId, done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
