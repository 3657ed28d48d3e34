import { Injectable, Logger, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AgentFailedException } from '../agents/agent.exception.js';
import { AgentRegistry } from '../agents/agent.registry.js';
import type { AgentRunInput, ToolCall } from '../agents/agent.types.js';
import type { Caller } from '../core/identity/caller.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { GatewayException } from '../core/errors/gateway.exception.js';
import { ToolRegistry } from '../tools/tool.registry.js';
import { UsageRecorder } from '../usage/usage.recorder.js';
import { AgentOutputCap } from './agent-output.cap.js';
import { IdempotencyKeyConflictError, LeaseLostError } from './event-store.errors.js';
import { jsonBytes } from './event-size.js';
import type { AgentResponse } from './session-api.types.js';
import { SessionConversations, type TurnConversation } from './session-conversations.js';
import type { KnownSession } from './session.directory.js';
import { SessionEventWriter } from './session-event.writer.js';
import type { SessionMessageParams } from './session-message.params.js';
import { SessionEventsPublisher } from './session-events.publisher.js';
import type { HeldTurnLease } from './session-turn.leases.js';
import { SessionTurnBudget } from './session-turn.budget.js';
import {
  EventTooLargeException,
  IdempotencyConflictException,
  SessionEndedException,
} from './session.exception.js';
import { toAgentResponse } from './session-event.mapping.js';
import { LinkedAbortController } from '../core/abort/linked-abort.controller.js';
import { LiveSeries } from '../core/live-series/live-series.js';
import { TracingService } from '../core/tracing/tracing.service.js';
import { ToolApprovalGate } from './tool-approval.gate.js';
import { cancelledResult, tooLargeResult } from './session-turn.results.js';
import { INTERRUPTED_MESSAGE, SessionTurnRecovery } from './session-turn.recovery.js';

export { INTERRUPTED_MESSAGE } from './session-turn.recovery.js';

/**
 * Runs one turn of a session under its lease: records the user's message, runs the agent with
 * everything it does stored as events (fenced by the lease) and streamed as deltas, and stores
 * its answer or its failure. A turn that finds the previous one unanswered (its instance died)
 * records that one as interrupted first, so every message.user has an outcome.
 */
@Injectable()
export class SessionTurnRunner {
  private readonly logger = new Logger('SessionTurns');

  constructor(
    private readonly agents: AgentRegistry,
    private readonly tools: ToolRegistry,
    private readonly writer: SessionEventWriter,
    private readonly publisher: SessionEventsPublisher,
    private readonly conversations: SessionConversations,
    private readonly config: GatewayConfig,
    private readonly live: LiveSeries,
    private readonly approvals: ToolApprovalGate,
    private readonly budget: SessionTurnBudget,
    private readonly usage: UsageRecorder,
    private readonly recovery: SessionTurnRecovery,
    @Optional() private readonly tracing?: TracingService,
  ) {}

  async run(
    caller: Caller,
    session: KnownSession,
    params: SessionMessageParams,
    lease: HeldTurnLease,
    signal: AbortSignal,
  ): Promise<AgentResponse> {
    const tracer = this.tracing?.tracer;
    if (!tracer) return this.runTurn(caller, session, params, lease, signal);
    // The turn's span (GenAI's invoke_agent): its model calls, tool calls and commits are children.
    const span = tracer.startSpan(`invoke_agent ${session.agentId}`, 'internal', {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.id': session.agentId,
      'gen_ai.conversation.id': session.sessionKey,
    });
    return tracer.run(span, async () => {
      const response = await this.runTurn(caller, session, params, lease, signal);
      span.setAttribute('gen_ai.response.finish_reasons', [response.finishReason]);
      return response;
    });
  }

  private async runTurn(
    caller: Caller,
    session: KnownSession,
    params: SessionMessageParams,
    lease: HeldTurnLease,
    signal: AbortSignal,
  ): Promise<AgentResponse> {
    const { sessionKey } = session;
    // Before anything is stored: a spent budget refuses the message (-32012).
    const tokenBudget = await this.budget.check(session);
    const conversation = await this.conversations.read(sessionKey, lease.lastSeq);
    try {
      await this.recovery.closeInterrupted(sessionKey, conversation, lease);
      const messageId = `msg_${randomUUID()}`;
      let stored;
      try {
        [stored] = await this.writer.append(
          sessionKey,
          [
            {
              type: 'message.user',
              data: { messageId, content: params.content },
              ...(params.idempotencyKey === undefined
                ? {}
                : { idempotencyKey: params.idempotencyKey }),
            },
          ],
          { expectActive: true, fence: lease.fence },
        );
      } catch (error) {
        // Another gateway instance stored the same key meanwhile.
        if (error instanceof IdempotencyKeyConflictError) {
          throw new IdempotencyConflictException(sessionKey, params.idempotencyKey ?? '');
        }
        throw error;
      }
      await this.conversations.advance(sessionKey, conversation, [stored]);
      return await this.runAgent(
        caller,
        session,
        messageId,
        conversation,
        lease,
        signal,
        tokenBudget,
      );
    } finally {
      this.conversations.keep(sessionKey, conversation);
    }
  }

  private async runAgent(
    caller: Caller,
    session: KnownSession,
    messageId: string,
    conversation: TurnConversation,
    lease: HeldTurnLease,
    signal: AbortSignal,
    tokenBudget: number | undefined,
  ): Promise<AgentResponse> {
    const { sessionKey, agentId } = session;
    const write = { expectActive: true, fence: lease.fence };
    // The answer (or the failure) is the turn's last event: it frees the lease as it is stored.
    // Under a budget the lease is kept until the turn's usage is recorded (and freed after), so
    // the session's next turn, on any instance, is checked against it.
    const freesLease = tokenBudget === undefined;
    const last = { expectActive: true, fence: freesLease ? lease.closing : lease.fence };
    const maxEventBytes = this.config.sessions.maxEventBytes;
    const output = new AgentOutputCap(maxEventBytes);
    // The agent's one controller. It follows the turn's signal and, between instances, the lease
    // (on one instance a lease is never lost); it is aborted when the answer passes the cap (the
    // agent stops, the turn ends with 'length'), and by the registry when the run ends.
    const control = new LinkedAbortController(signal, lease.fence ? lease.lost : undefined);
    const toolCalls: ToolCall[] = [];
    const answered = new Set<string>();
    let index = 0;
    // Tool calls are the turn's children, whatever context the agent runs them from.
    const tracer = this.tracing?.tracer;
    const turnContext = tracer?.active();
    try {
      const agent = this.agents.get(agentId);
      const allowed = agent.tools;
      const turn = { caller, session, messageId, fence: lease.fence, conversation, maxEventBytes };
      const approvals = this.approvals.forTurn(turn);
      const input: AgentRunInput = {
        sessionKey,
        messages: conversation.snapshot(),
        tools:
          allowed === undefined
            ? this.tools.list()
            : this.tools.list().filter((tool) => allowed.includes(tool.name)),
        // Runs through the registry, asking a human first where approval is configured; tool
        // calls are the turn's children, whatever context the agent runs them from.
        executeTool: (name, args, toolSignal, toolCallId) => {
          const execute = () => approvals.executeTool(name, args, toolSignal, toolCallId);
          return tracer && turnContext ? tracer.with(turnContext, execute) : execute();
        },
        ...(tokenBudget === undefined ? {} : { tokenBudget }),
      };
      for await (const event of this.agents.run(agentId, input, control)) {
        switch (event.type) {
          case 'text-delta': {
            const delta = output.delta(event.delta);
            if (delta) this.publisher.delta(sessionKey, messageId, index++, delta);
            if (output.cut) control.abort(new Error('answer over sessions.maxEventBytes'));
            break;
          }
          case 'tool-call': {
            output.stepEnded();
            const call = {
              toolCallId: event.toolCallId,
              name: event.name,
              arguments: event.arguments,
            };
            toolCalls.push(call);
            const text = event.text ? { text: event.text } : {};
            const data = { messageId, ...call, ...text };
            const size = jsonBytes(data);
            if (size > maxEventBytes) {
              throw new AgentFailedException(
                agentId,
                `Agent "${agentId}" called tool "${event.name}" with arguments too large (${size} bytes > ${maxEventBytes})`,
                false,
              );
            }
            conversation.follow(
              await this.writer.append(sessionKey, [{ type: 'tool.call', data }], write),
            );
            approvals.called(event.toolCallId);
            break;
          }
          case 'tool-result': {
            answered.add(event.toolCallId);
            const data = {
              messageId,
              toolCallId: event.toolCallId,
              name: event.name,
              result: event.result,
            };
            // A result the registry did not measure (an agent's own): recorded as failed.
            const size = jsonBytes(data);
            if (size > maxEventBytes) data.result = tooLargeResult(event.name, size, maxEventBytes);
            conversation.follow(
              await this.writer.append(sessionKey, [{ type: 'tool.result', data }], write),
            );
            break;
          }
          case 'finish': {
            const rest: Record<string, unknown> = { messageId, toolCalls };
            if (event.usage !== undefined) rest.usage = event.usage;
            const stopped = signal.aborted || lease.lost.aborted;
            const data = output.finish(rest, event.content, event.finishReason, stopped);
            // A call the cancellation cut short gets its result, so every tool.call has one.
            const unanswered = toolCalls.filter((call) => !answered.has(call.toolCallId));
            const stored = await this.writer.append(
              sessionKey,
              [
                ...unanswered.map((call) => cancelledResult(messageId, call)),
                { type: 'message.agent', data },
              ],
              last,
            );
            if (freesLease) lease.freed();
            this.live.tokensUsed(event.usage);
            // The cached conversation stays current: the next turn need not read the log.
            conversation.follow(stored);
            const answer = stored[stored.length - 1];
            // Before the answer goes out: a client's next message is checked against it.
            await this.usage.record({
              sessionKey,
              seq: answer.seq,
              subject: session.ownerSubject,
              agentId,
              usage: event.usage,
            });
            return toAgentResponse(answer);
          }
          case 'error':
            throw new AgentFailedException(agentId, event.message, event.retryable);
        }
      }
      throw new AgentFailedException(agentId, `Agent "${agentId}" ended without an answer`, false);
    } catch (error) {
      // Nothing may follow session.ended: the turn's outcome is lost with its session.
      if (error instanceof SessionEndedException) throw error;
      if (error instanceof LeaseLostError || lease.lost.aborted) {
        // Another instance owns the session now and records this turn as interrupted.
        throw new AgentFailedException(agentId, INTERRUPTED_MESSAGE, true);
      }
      const failure =
        error instanceof EventTooLargeException
          ? new AgentFailedException(agentId, error.message, false)
          : error instanceof GatewayException
            ? error
            : new AgentFailedException(agentId, `Agent "${agentId}" failed`, false);
      if (!(error instanceof GatewayException)) {
        this.logger.error({ err: error, sessionKey }, 'turn failed unexpectedly');
      }
      const retryable = failure.data?.retryable === true;
      conversation.follow(
        await this.writer.append(
          sessionKey,
          [{ type: 'agent.error', data: { messageId, message: failure.message, retryable } }],
          last,
        ),
      );
      if (freesLease) lease.freed();
      throw failure;
    } finally {
      control.dispose();
    }
  }
}
