import type { ToolApprovalRecord } from './tool-approval.store.js';
import type { ToolApprovalRequest } from './tool-approval.types.js';

/** A stored request as approvers see it (list and notification): no internal fields. */
export function publicRequest(record: ToolApprovalRecord): ToolApprovalRequest {
  return {
    sessionKey: record.sessionKey,
    toolCallId: record.toolCallId,
    name: record.name,
    arguments: record.arguments,
    agentId: record.agentId,
    ownerSubject: record.ownerSubject,
    expiresAt: record.expiresAt,
  };
}
