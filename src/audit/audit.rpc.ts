import { Injectable } from '@nestjs/common';

import { requireCaller } from '../core/auth/require-caller.js';
import type { RpcCallContext } from '../core/rpc/rpc-call-context.js';
import { RpcErrorCode } from '../core/rpc/rpc-error-code.js';
import { RpcMethod } from '../core/rpc/rpc-method.decorator.js';
import type { ChainReport } from './audit-chain.verifier.js';
import { AuditSearchParams } from './audit-search.params.js';
import { AuditTrailService, type AuditRecordView } from './audit-trail.service.js';
import { AuditVerifyParams } from './audit-verify.params.js';

const NULLABLE_STRING = { type: ['string', 'null'] };

const AUDIT_RECORD_SCHEMA = {
  type: 'object',
  required: ['seq', 'at', 'action', 'outcome', 'count', 'hash'],
  properties: {
    seq: { type: 'integer', minimum: 1 },
    at: { type: 'string', format: 'date-time' },
    action: { type: 'string' },
    outcome: { enum: ['ok', 'denied', 'failed'] },
    subject: NULLABLE_STRING,
    target: NULLABLE_STRING,
    ip: NULLABLE_STRING,
    count: { type: 'integer', minimum: 1 },
    detail: { type: ['object', 'null'] },
    hash: { type: 'string' },
  },
};

const CHAIN_REPORT_SCHEMA = {
  type: 'object',
  required: ['chain', 'ok', 'links'],
  properties: {
    chain: { type: 'string' },
    ok: { type: 'boolean' },
    links: { type: 'integer' },
    fault: {
      type: 'object',
      required: ['kind', 'seq'],
      properties: {
        kind: { enum: ['mismatch', 'gap', 'unreadable'] },
        seq: { type: 'integer' },
        expected: { type: 'string' },
        found: NULLABLE_STRING,
        message: { type: 'string' },
      },
    },
  },
};

/** The audit trail's methods, for the dashboard's Audit view: admin only. */
@Injectable()
export class AuditRpc {
  constructor(private readonly trail: AuditTrailService) {}

  @RpcMethod('audit.search', {
    scope: 'admin',
    params: AuditSearchParams,
    description:
      'Security audit records, newest first: filter by subject, sessionKey (the target, or in the detail), since/until (ISO 8601); page with before = the last seq seen.',
    result: { name: 'AuditRecord[]', schema: { type: 'array', items: AUDIT_RECORD_SCHEMA } },
    errors: [RpcErrorCode.InvalidParams],
  })
  search(params: AuditSearchParams, ctx: RpcCallContext): Promise<AuditRecordView[]> {
    return this.trail.search(requireCaller(ctx.caller), params);
  }

  @RpcMethod('audit.verify', {
    scope: 'admin',
    params: AuditVerifyParams,
    description:
      "Walks a hash chain: a session's events (sessionKey) or the security log (no key); reports the first broken link (mismatch: seq, expected, found; gap: the missing seq).",
    result: { name: 'ChainReport', schema: CHAIN_REPORT_SCHEMA },
    errors: [RpcErrorCode.InvalidParams, RpcErrorCode.NotFound],
  })
  verify(params: AuditVerifyParams, ctx: RpcCallContext): Promise<ChainReport> {
    return this.trail.verify(requireCaller(ctx.caller), params);
  }
}
