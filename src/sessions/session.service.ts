import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AgentFailedException } from '../agents/agent.exception.js';
import { AgentRegistry } from '../agents/agent.registry.js';
import { ADMIN_SCOPE, type Caller } from '../core/identity/caller.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import type { RecordedToolCall, RecordedToolResult } from '../tools/tool-run-recorder.js';
import { EventPageReader } from './event-page.reader.js';
import { EventStore } from './event-store.js';
import type {
  AgentResponse,
  SessionCallHooks,
  SessionEvent,
  SessionKeyResult,
  SessionSummary,
} from './session-api.types.js';
import type { SessionCancelParams } from './session-cancel.params.js';
import { SessionTurnCanceller } from './session-turn.canceller.js';
import type { SessionCreateParams } from './session-create.params.js';
import { SessionDirectory, type KnownSession } from './session.directory.js';
import type { SessionEndParams } from './session-end.params.js';
import { SessionEndService } from './session-end.service.js';
import { toSessionEvent } from './session-event.mapping.js';
import { SessionEventWriter } from './session-event.writer.js';
import { SessionEventsPublisher } from './session-events.publisher.js';
import type { SessionHistoryParams } from './session-history.params.js';
import type { SessionMessageParams } from './session-message.params.js';
import { SessionReplay } from './session-replay.js';
import { SessionTurnLeases, type HeldTurnLease } from './session-turn.leases.js';
import { SessionTurnQueue } from './session-turn.queue.js';
import { SessionTurnRunner } from './session-turn.runner.js';
import { SessionWorkTracker, type SessionWork } from './session-work.tracker.js';
import { ContentTooLongException, SessionEndedException } from './session.exception.js';
import type { SessionsListParams } from './sessions-list.params.js';

/** A `session.history` page, and whether the log goes on after it (count or byte cap). */
export interface HistoryPage {
  events: SessionEvent[];
  more: boolean;
}

/**
 * The sessions API behind `session.*`: ownership, turns one at a time (in this instance's queue,
 * then under the session's lease across instances), idempotent retries, and ending a session
 * wherever its work runs. Turns themselves are SessionTurnRunner's.
 */
@Injectable()
export class SessionService implements OnModuleDestroy {
  /** Client tool calls between their `tool.call` and `tool.result`, by session and call id. */
  private readonly toolRuns = new Map<string, SessionWork>();

  constructor(
    private readonly store: EventStore,
    private readonly pages: EventPageReader,
    private readonly directory: SessionDirectory,
    private readonly writer: SessionEventWriter,
    private readonly publisher: SessionEventsPublisher,
    private readonly queue: SessionTurnQueue,
    private readonly leases: SessionTurnLeases,
    private readonly runner: SessionTurnRunner,
    private readonly replays: SessionReplay,
    private readonly work: SessionWorkTracker,
    private readonly ender: SessionEndService,
    private readonly canceller: SessionTurnCanceller,
    private readonly agents: AgentRegistry,
    private readonly config: GatewayConfig,
  ) {}

  onModuleDestroy(): void {
    this.work.abortAll(new Error('shutdown'));
  }

  async create(
    caller: Caller,
    params: SessionCreateParams,
    hooks: SessionCallHooks = {},
  ): Promise<SessionKeyResult> {
    const agentId = params.agentId ?? this.agents.defaultAgentId;
    this.agents.get(agentId);
    const { session, event } = await this.store.createSession({
      ownerSubject: caller.subject,
      agentId,
      metadata: params.metadata,
    });
    this.directory.remember({
      sessionKey: session.sessionKey,
      ownerSubject: caller.subject,
      agentId,
      status: 'active',
    });
    hooks.onSessionAccess?.(session.sessionKey);
    this.publisher.stored([event]);
    return { sessionKey: session.sessionKey, agentId, createdAt: session.createdAt };
  }

  async message(
    caller: Caller,
    params: SessionMessageParams,
    hooks: SessionCallHooks = {},
  ): Promise<AgentResponse> {
    const max = this.config.sessions.maxContentLength;
    if (params.content.length > max) throw new ContentTooLongException(params.content.length, max);
    const session = await this.directory.owned(caller, params.sessionKey);
    const { sessionKey, idempotencyKey } = params;

    if (idempotencyKey !== undefined) {
      const replay = await this.replays.replay(
        session,
        idempotencyKey,
        params.content,
        hooks.signal,
      );
      if (replay) return replay;
    }
    if (session.status === 'ended') throw new SessionEndedException(sessionKey);
    hooks.onSessionAccess?.(sessionKey);

    // How a retry of this message that joins it cancels its turn, queued or running.
    const control: TurnControl = {};
    const response = this.queue.run(sessionKey, this.config.sessions.queueSize, () =>
      this.turn(caller, session, params, hooks.signal, control),
    );
    if (idempotencyKey !== undefined) {
      this.replays.track(sessionKey, idempotencyKey, params.content, response, (reason) =>
        control.abort ? control.abort(reason) : (control.cancelled ??= { reason }),
      );
    }
    return response;
  }

  /** A page bounded by `limit` and by `sessions.maxPageBytes` (always at least one event). */
  async history(caller: Caller, params: SessionHistoryParams): Promise<HistoryPage> {
    await this.directory.owned(caller, params.sessionKey);
    const page = await this.pages.read(
      params.sessionKey,
      params.afterSeq ?? 0,
      params.limit ?? 100,
      this.config.sessions.maxPageBytes,
    );
    return { events: page.events.map(toSessionEvent), more: page.more };
  }

  /** Ends the session (ending twice is harmless), wherever its work runs: see SessionEndService. */
  async end(caller: Caller, params: SessionEndParams): Promise<{ ok: true }> {
    const session = await this.directory.owned(caller, params.sessionKey);
    await this.ender.end(session, params.reason);
    return { ok: true };
  }

  /**
   * Stops the session's running turn, on whichever instance runs it; it records its partial
   * answer as cancelled. Messages waiting behind it run next.
   */
  async cancel(caller: Caller, params: SessionCancelParams): Promise<{ cancelled: boolean }> {
    await this.directory.owned(caller, params.sessionKey);
    return { cancelled: await this.canceller.cancel(params.sessionKey) };
  }

  /** Sessions newest first; an admin sees everyone's (optionally one owner's), others their own. */
  async list(caller: Caller, params: SessionsListParams): Promise<SessionSummary[]> {
    const admin = caller.scopes.has(ADMIN_SCOPE);
    const ownerSubject = admin ? params.ownerSubject : caller.subject;
    if (params.after !== undefined) await this.directory.owned(caller, params.after);
    const sessions = await this.store.listSessions({
      ownerSubject,
      limit: params.limit ?? 100,
      after: params.after,
    });
    return sessions.map((s) => ({
      sessionKey: s.sessionKey,
      ownerSubject: s.ownerSubject,
      agentId: s.agentId,
      status: s.status,
      lastSeq: s.lastSeq,
      createdAt: s.createdAt,
      endedAt: s.endedAt,
      metadata: s.metadata,
    }));
  }

  /**
   * Records a client's tool call (`tools.execute { sessionKey }`) in an active session of theirs.
   * The signal aborts when the session ends; session.end then waits for recordToolResult.
   */
  async recordToolCall(
    caller: Caller,
    sessionKey: string,
    call: RecordedToolCall,
  ): Promise<AbortSignal> {
    const session = await this.directory.owned(caller, sessionKey);
    if (session.status === 'ended' || this.ender.isEnding(sessionKey)) {
      throw new SessionEndedException(sessionKey);
    }
    const work = this.work.start(sessionKey);
    try {
      await this.writer.append(sessionKey, [{ type: 'tool.call', data: { ...call } }], {
        expectActive: true,
      });
    } catch (error) {
      work.done();
      throw error;
    }
    this.toolRuns.set(toolRunKey(sessionKey, call.toolCallId), work);
    return work.signal;
  }

  /** Records the result of a call begun with recordToolCall, before any `session.ended`. */
  async recordToolResult(
    caller: Caller,
    sessionKey: string,
    result: RecordedToolResult,
  ): Promise<void> {
    const key = toolRunKey(sessionKey, result.toolCallId);
    const work = this.toolRuns.get(key);
    this.toolRuns.delete(key);
    try {
      await this.directory.owned(caller, sessionKey);
      await this.writer.append(sessionKey, [{ type: 'tool.result', data: { ...result } }], {
        expectActive: true,
      });
    } finally {
      work?.done();
    }
  }

  /** One turn: tracked (session.end waits for it), under the session's lease. */
  private async turn(
    caller: Caller,
    session: KnownSession,
    params: SessionMessageParams,
    callSignal: AbortSignal | undefined,
    control: TurnControl,
  ): Promise<AgentResponse> {
    const { sessionKey } = session;
    if (session.status === 'ended' || this.ender.isEnding(sessionKey)) {
      throw new SessionEndedException(sessionKey);
    }
    // Tracked from before its first event: a session.end from now on waits for this turn.
    const work = this.work.start(sessionKey);
    // The caller's signal (an HTTP client that left) stops the work too: one signal for the turn.
    const abortWork = (): void => work.abort(callSignal?.reason);
    callSignal?.addEventListener('abort', abortWork, { once: true });
    if (callSignal?.aborted) abortWork();
    control.abort = (reason) => work.abort(reason);
    if (control.cancelled) work.abort(control.cancelled.reason);
    const signal = work.signal;
    try {
      let lease: HeldTurnLease;
      try {
        lease = await this.leases.hold(sessionKey, signal);
      } catch (error) {
        // Stopped while another instance's turn ran (the session ended, the caller went away,
        // shutdown): nothing was stored, nothing ran.
        if (!signal.aborted) throw error;
        if (session.status !== 'active' || this.ender.isEnding(sessionKey)) {
          throw new SessionEndedException(sessionKey);
        }
        throw new AgentFailedException(
          session.agentId,
          'The message was cancelled before its turn started; nothing was stored',
          true,
        );
      }
      try {
        // From here on session.cancel stops this turn (named by its lease on PostgreSQL).
        work.running(lease.fence?.token);
        return await this.runner.run(caller, session, params, lease, signal);
      } finally {
        await lease.release();
      }
    } finally {
      callSignal?.removeEventListener('abort', abortWork);
      work.done();
    }
  }
}

/** A turn as a retry of its message reaches it: cancelled before it starts, or while it runs. */
interface TurnControl {
  abort?: (reason: unknown) => void;
  cancelled?: { reason: unknown };
}

function toolRunKey(sessionKey: string, toolCallId: string): string {
  return `${sessionKey}\u0000${toolCallId}`;
}
