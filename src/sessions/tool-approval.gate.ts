import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { SecurityAuditLog } from '../core/audit/security-audit.log.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { DataSource } from 'typeorm';
import { EVENT_BUS, type EventBus } from '../core/events/event-bus.js';
import { ToolRegistry, type ToolExecuteOptions } from '../tools/tool.registry.js';
import type { ToolResult } from '../tools/tool.types.js';
import { SessionEventWriter } from './session-event.writer.js';
import type { NewEvent } from './session.types.js';
import { jsonBytes } from './event-size.js';
import { EventTooLargeException } from './session.exception.js';
import { ToolApprovalPolicy } from './tool-approval.policy.js';
import { publicRequest } from './tool-approval.request.js';
import {
  TurnApprovals,
  type ApprovalCall,
  type ApprovalTurn,
  type ToolApprovalAsker,
} from './tool-approval.turn.js';
import {
  ToolApprovalStore,
  type ToolApprovalKey,
  type ToolApprovalRecord,
  type ToolApprovalVerdict,
} from './tool-approval.store.js';
import {
  APPROVAL_DECIDED_METHOD,
  APPROVAL_REQUESTED_METHOD,
  APPROVALS_TOPIC,
  type ToolApprovalDecided,
} from './tool-approval.types.js';

/** How often a waiting turn re-reads its request: a lost bus message only delays the decision. */
const POLL_MS = 1_000;

/**
 * Holds a turn's tool calls that need a human decision (ToolApprovalPolicy): the request is
 * stored (`tool_approvals`), appended to the session (`tool.approval_requested`) and announced to
 * approvers on every instance; the turn waits for `tool.approve` on any instance (woken by the bus,
 * re-reading the row every second), for `approvals.timeout` (denied), or for its cancellation.
 * The turn holds the lease, so it appends the decision (`tool.approval`) itself.
 */
@Injectable()
export class ToolApprovalGate implements ToolApprovalAsker, OnModuleInit, OnModuleDestroy {
  private readonly waiters = new Map<string, () => void>();
  private stop?: () => void;

  constructor(
    private readonly policy: ToolApprovalPolicy,
    private readonly store: ToolApprovalStore,
    private readonly tools: ToolRegistry,
    private readonly writer: SessionEventWriter,
    private readonly config: GatewayConfig,
    private readonly audit: SecurityAuditLog,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly dataSource: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.dataSource.options.type !== 'postgres') {
      await this.store.abandonPending('the gateway restarted while the call waited');
    }
    this.stop = this.bus.subscribe(APPROVALS_TOPIC, ({ method, params }) => {
      if (method !== APPROVAL_DECIDED_METHOD) return;
      this.waiters.get(waiterKey(params.sessionKey, params.toolCallId))?.();
    });
  }

  onModuleDestroy(): void {
    this.stop?.();
  }

  forTurn(turn: ApprovalTurn): TurnApprovals {
    return new TurnApprovals(this, turn);
  }

  run(
    name: string,
    args: Record<string, unknown>,
    options: ToolExecuteOptions,
  ): Promise<ToolResult> {
    return this.tools.execute(name, args, options);
  }

  /** Whether the turn's agent must ask before calling this tool (unknown tools fail anyway). */
  requires(agentId: string, name: string): boolean {
    return this.tools.has(name) && this.policy.requires(agentId, this.tools.describe(name));
  }

  /** Asks, waits and records the outcome; the tool runs only when approved. */
  async ask(
    turn: ApprovalTurn,
    call: ApprovalCall,
    signal: AbortSignal,
    run: () => Promise<ToolResult>,
  ): Promise<ToolResult> {
    const { session, messageId } = turn;
    const key: ToolApprovalKey = {
      sessionKey: session.sessionKey,
      toolCallId: call.toolCallId,
      messageId,
    };
    const requestedAt = Date.now();
    const expiresAt = new Date(requestedAt + this.config.approvals.timeout).toISOString();
    const request: ToolApprovalRecord = {
      ...key,
      name: call.name,
      arguments: call.arguments,
      agentId: session.agentId,
      ownerSubject: session.ownerSubject,
      requestedAt,
      expiresAt,
    };
    const event: NewEvent = {
      type: 'tool.approval_requested',
      data: {
        messageId,
        toolCallId: call.toolCallId,
        name: call.name,
        arguments: call.arguments,
        expiresAt,
      },
    };
    const size = jsonBytes(event.data);
    const maxBytes = this.config.sessions.maxEventBytes;
    if (size > maxBytes) throw new EventTooLargeException(event.type, size, maxBytes);
    // The row first: whoever sees the event or the notification can decide at once.
    await this.store.insert(request);
    try {
      await this.append(turn, event);
    } catch (error) {
      // Not in the log (too large, session ended, lease lost): nobody is to decide it.
      await this.store.decide(key, { decision: 'deny', by: null, reason: 'not recorded' });
      throw error;
    }
    this.bus.publish(APPROVALS_TOPIC, {
      method: APPROVAL_REQUESTED_METHOD,
      params: { ...publicRequest(request) },
    });

    const verdict = await this.decision(key, requestedAt + this.config.approvals.timeout, signal);
    const data: Record<string, unknown> = {
      messageId,
      toolCallId: call.toolCallId,
      decision: verdict.decision,
      by: verdict.by,
    };
    if (verdict.reason !== undefined) data.reason = verdict.reason;
    await this.append(turn, { type: 'tool.approval', data });
    if (verdict.decision === 'approve') return run();
    return denied(call.name, verdict);
  }

  /** Waits for the row to be decided; at the deadline, or on abort, decides it as denied. */
  private async decision(
    key: ToolApprovalKey,
    deadline: number,
    signal: AbortSignal,
  ): Promise<ToolApprovalVerdict> {
    for (;;) {
      const row = await this.store.getOf(key);
      if (row?.decision !== undefined) {
        return { decision: row.decision, by: row.decidedBy ?? null, reason: row.reason };
      }
      const left = deadline - Date.now();
      if (left <= 0 || signal.aborted) {
        const timedOut = !signal.aborted;
        const verdict: ToolApprovalVerdict = {
          decision: 'deny',
          by: null,
          reason: timedOut
            ? `No decision within approvals.timeout (${this.config.approvals.timeout} ms)`
            : 'The turn was cancelled',
        };
        // A human's decision may have won the race: the row then says so, and the loop reads it.
        if (!(await this.store.decide(key, verdict))) continue;
        const decided: ToolApprovalDecided = {
          sessionKey: key.sessionKey,
          toolCallId: key.toolCallId,
          ...verdict,
        };
        this.bus.publish(APPROVALS_TOPIC, {
          method: APPROVAL_DECIDED_METHOD,
          params: { ...decided },
        });
        if (timedOut) {
          this.audit.record({
            action: 'tool.approval',
            outcome: 'ok',
            target: key.sessionKey,
            detail: { toolCallId: key.toolCallId, decision: 'deny', timedOut: true },
          });
        }
        return verdict;
      }
      await this.wake(key, Math.min(left, POLL_MS), signal);
    }
  }

  private wake(key: ToolApprovalKey, ms: number, signal: AbortSignal): Promise<void> {
    const id = waiterKey(key.sessionKey, key.toolCallId);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.waiters.get(id) === done) this.waiters.delete(id);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.set(id, done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private async append(turn: ApprovalTurn, event: NewEvent): Promise<void> {
    const stored = await this.writer.append(turn.session.sessionKey, [event], {
      expectActive: true,
      fence: turn.fence,
    });
    turn.conversation.follow(stored);
  }
}

function waiterKey(sessionKey: unknown, toolCallId: unknown): string {
  return `${String(sessionKey)}\n${String(toolCallId)}`;
}

/** What the model sees instead of the tool's output: a failure that says why. */
function denied(name: string, verdict: ToolApprovalVerdict): ToolResult {
  const who = verdict.by === null ? '' : ` by ${verdict.by}`;
  const why = verdict.reason ? `: ${verdict.reason}` : '';
  const text = `Tool call "${name}" was denied${who}${why}`;
  return { content: [{ type: 'text', text }], isError: true, durationMs: 0 };
}
