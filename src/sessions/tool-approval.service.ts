import { Inject, Injectable } from '@nestjs/common';
import { SecurityAuditLog } from '../core/audit/security-audit.log.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { EVENT_BUS, type EventBus } from '../core/events/event-bus.js';
import type { Caller } from '../core/identity/caller.js';
import {
  OwnToolApprovalException,
  ToolApprovalDecidedException,
  ToolApprovalNotFoundException,
} from './tool-approval.exception.js';
import { publicRequest } from './tool-approval.request.js';
import { ToolApprovalStore } from './tool-approval.store.js';
import {
  APPROVAL_DECIDED_METHOD,
  APPROVALS_TOPIC,
  type ToolApprovalDecided,
  type ToolApprovalRequest,
  type ToolApproveInput,
  type ToolApproveResult,
} from './tool-approval.types.js';

/**
 * Human decisions on tool calls, from any instance: the decision is one conditional UPDATE of
 * the request's row (the first one wins; others get -32009), announced on the bus, which wakes
 * the waiting turn wherever it runs; the turn then records it in the session's log.
 */
@Injectable()
export class ToolApprovalService {
  constructor(
    private readonly store: ToolApprovalStore,
    private readonly config: GatewayConfig,
    private readonly audit: SecurityAuditLog,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {}

  async decide(caller: Caller, params: ToolApproveInput): Promise<ToolApproveResult> {
    const { sessionKey, toolCallId, decision } = params;
    const request = await this.store.get(sessionKey, toolCallId);
    if (!request) throw new ToolApprovalNotFoundException(sessionKey, toolCallId);
    if (!this.mayDecide(caller, request)) {
      this.audit.record({
        action: 'tool.approval',
        outcome: 'denied',
        subject: caller.subject,
        target: sessionKey,
        detail: { toolCallId, decision, reason: 'own-session' },
      });
      throw new OwnToolApprovalException(sessionKey, toolCallId);
    }
    if (request.decision !== undefined) {
      throw new ToolApprovalDecidedException(sessionKey, toolCallId, 'decided');
    }
    const now = Date.now();
    const verdict = { decision, by: caller.subject, reason: params.reason };
    if (!(await this.store.decide(request, verdict, now))) {
      const again = await this.store.getOf(request);
      const why = again?.decision === undefined ? 'expired' : 'decided';
      throw new ToolApprovalDecidedException(sessionKey, toolCallId, why);
    }
    const decided: ToolApprovalDecided = { sessionKey, toolCallId, ...verdict };
    if (decided.reason === undefined) delete decided.reason;
    this.bus.publish(APPROVALS_TOPIC, { method: APPROVAL_DECIDED_METHOD, params: { ...decided } });
    this.audit.record({
      action: 'tool.approval',
      outcome: 'ok',
      subject: caller.subject,
      target: sessionKey,
      detail: { toolCallId, decision },
    });
    return { sessionKey, toolCallId, decision };
  }

  /** Pending requests the caller may decide, oldest first (at most 500). */
  async list(caller: Caller): Promise<ToolApprovalRequest[]> {
    const own = this.config.approvals.ownerMayApprove ? undefined : caller.subject;
    const rows = await this.store.pending(Date.now(), own);
    return rows.map(publicRequest);
  }

  /** Four eyes unless configured otherwise; admins are no exception. */
  mayDecide(caller: Caller, request: Pick<ToolApprovalRequest, 'ownerSubject'>): boolean {
    return this.config.approvals.ownerMayApprove || request.ownerSubject !== caller.subject;
  }
}
