/** What a human decided about a tool call (a timeout or a cancelled turn is a `deny`). */
export type ToolApprovalDecision = 'approve' | 'deny';

/** A tool call waiting for a decision, as `tool.approvals.list` and `approval.requested` show it. */
export interface ToolApprovalRequest {
  sessionKey: string;
  toolCallId: string;
  /** The tool the agent called, and with what. */
  name: string;
  arguments: Record<string, unknown>;
  agentId: string;
  /** The session's owner. */
  ownerSubject: string;
  /** ISO 8601: when the call is denied if nobody decided. */
  expiresAt: string;
}

/** `tool.approve` params (the params class implements it; the client library sends it). */
export interface ToolApproveInput {
  sessionKey: string;
  toolCallId: string;
  decision: ToolApprovalDecision;
  reason?: string;
}

/** What `tool.approve` answers. */
export interface ToolApproveResult {
  sessionKey: string;
  toolCallId: string;
  decision: ToolApprovalDecision;
}

/** `approval.decided`: a request was decided (by someone, or by its timeout); live views drop it. */
export interface ToolApprovalDecided {
  sessionKey: string;
  toolCallId: string;
  decision: ToolApprovalDecision;
  /** Null when nobody decided: the request timed out or its turn was cancelled. */
  by: string | null;
  reason?: string;
}

/** Notification methods sent to every connection whose token has `tools:approve`. */
export const APPROVAL_REQUESTED_METHOD = 'approval.requested';
export const APPROVAL_DECIDED_METHOD = 'approval.decided';
/** The bus topic of both, and of the wake-up of the waiting turn. */
export const APPROVALS_TOPIC = 'approvals';
export const TOOLS_APPROVE_SCOPE = 'tools:approve';
