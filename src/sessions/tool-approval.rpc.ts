import { Injectable } from '@nestjs/common';
import { requireCaller } from '../core/auth/require-caller.js';
import type { RpcCallContext } from '../core/rpc/rpc-call-context.js';
import { RpcErrorCode } from '../core/rpc/rpc-error-code.js';
import { RpcMethod } from '../core/rpc/rpc-method.decorator.js';
import { ToolApprovalService } from './tool-approval.service.js';
import {
  TOOLS_APPROVE_SCOPE,
  type ToolApprovalRequest,
  type ToolApproveResult,
} from './tool-approval.types.js';
import { ToolApprovalsListParams } from './tool-approvals-list.params.js';
import { ToolApproveParams } from './tool-approve.params.js';

const DECISION = { enum: ['approve', 'deny'] };

const APPROVAL_REQUEST_SCHEMA = {
  type: 'object',
  required: [
    'sessionKey',
    'toolCallId',
    'name',
    'arguments',
    'agentId',
    'ownerSubject',
    'expiresAt',
  ],
  properties: {
    sessionKey: { type: 'string' },
    toolCallId: { type: 'string' },
    name: { type: 'string' },
    arguments: { type: 'object' },
    agentId: { type: 'string' },
    ownerSubject: { type: 'string' },
    expiresAt: { type: 'string', format: 'date-time' },
  },
};

/** Human approval of the tool calls that turns make (`approval` in agents and MCP servers). */
@Injectable()
export class ToolApprovalRpc {
  constructor(private readonly approvals: ToolApprovalService) {}

  @RpcMethod('tool.approve', {
    scope: TOOLS_APPROVE_SCOPE,
    params: ToolApproveParams,
    description:
      "Approves or denies a tool call waiting for a decision (see tool.approvals.list and the approval.requested notification); the first decision wins. A session's owner may decide its own calls only when approvals.ownerMayApprove is on.",
    result: {
      name: 'ToolApproveResult',
      schema: {
        type: 'object',
        required: ['sessionKey', 'toolCallId', 'decision'],
        properties: {
          sessionKey: { type: 'string' },
          toolCallId: { type: 'string' },
          decision: DECISION,
        },
      },
    },
    errors: [
      RpcErrorCode.InvalidParams,
      RpcErrorCode.Forbidden,
      RpcErrorCode.NotFound,
      RpcErrorCode.Conflict,
    ],
  })
  approve(params: ToolApproveParams, ctx: RpcCallContext): Promise<ToolApproveResult> {
    return this.approvals.decide(requireCaller(ctx.caller), params);
  }

  @RpcMethod('tool.approvals.list', {
    scope: TOOLS_APPROVE_SCOPE,
    params: ToolApprovalsListParams,
    description:
      'The tool calls waiting for a decision that the caller may decide, oldest first (at most 500).',
    result: {
      name: 'ToolApprovalRequest[]',
      schema: { type: 'array', items: APPROVAL_REQUEST_SCHEMA },
    },
    errors: [RpcErrorCode.InvalidParams],
  })
  list(_params: ToolApprovalsListParams, ctx: RpcCallContext): Promise<ToolApprovalRequest[]> {
    return this.approvals.list(requireCaller(ctx.caller));
  }
}
