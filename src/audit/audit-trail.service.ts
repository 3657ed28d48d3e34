import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import type { AuditRecordFields } from '../core/audit/chain-hash.js';
import { GatewayErrorCode } from '../core/errors/gateway-error-code.js';
import { GatewayException } from '../core/errors/gateway.exception.js';
import { ADMIN_SCOPE, type Caller } from '../core/identity/caller.js';
import { AuditSessionNotFoundException, AuditTimeInvalidException } from './audit.exception.js';
import {
  AUDIT_RECORD_COLUMNS,
  AuditChainReader,
  toChainedAuditRecord,
  type ChainedAuditRecord,
} from './audit-chain.reader.js';
import { AuditChainVerifier, type ChainReport } from './audit-chain.verifier.js';
import type { AuditSearchParams } from './audit-search.params.js';

/** A security record as `audit.search` returns it: its hashed fields and its hash. */
export interface AuditRecordView extends AuditRecordFields {
  hash: string;
}

/**
 * The audit trail for operators: the security log searched, and a chain verified on demand.
 * Admin only (the methods' scope; checked again here, since a service is callable from code).
 */
@Injectable()
export class AuditTrailService {
  private readonly verifier: AuditChainVerifier;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.verifier = new AuditChainVerifier(new AuditChainReader(dataSource));
  }

  async search(caller: Caller, params: AuditSearchParams): Promise<AuditRecordView[]> {
    requireAdmin(caller);
    const postgres = this.dataSource.options.type === 'postgres';
    const values: unknown[] = [];
    const where: string[] = [];
    const p = (value: unknown): string => {
      values.push(value);
      return postgres ? `$${values.length}` : '?';
    };
    if (params.subject !== undefined) where.push(`"subject" = ${p(params.subject)}`);
    if (params.sessionKey !== undefined) {
      // The detail is canonical JSON, so a member reads the same in every record.
      where.push(
        `("target" = ${p(params.sessionKey)} OR "detail" LIKE ${p(`%${likeLiteral(`"sessionKey":${JSON.stringify(params.sessionKey)}`)}%`)} ESCAPE '\\')`,
      );
    }
    if (params.since !== undefined) where.push(`"at" >= ${p(isoTime(params.since, 'since'))}`);
    if (params.until !== undefined) where.push(`"at" < ${p(isoTime(params.until, 'until'))}`);
    if (params.before !== undefined) where.push(`"seq" < ${p(params.before)}`);
    const rows = await this.dataSource.query<ChainedAuditRecord[]>(
      `SELECT ${AUDIT_RECORD_COLUMNS}
       FROM "audit_events" ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY "seq" DESC LIMIT ${p(params.limit ?? 50)}`,
      values,
    );
    return rows.map(toChainedAuditRecord).map((row) => ({
      ...row,
      detail: row.detail === null ? null : (JSON.parse(row.detail) as Record<string, unknown>),
    }));
  }

  async verify(caller: Caller, params: { sessionKey?: string }): Promise<ChainReport> {
    requireAdmin(caller);
    if (params.sessionKey === undefined) return this.verifier.verifySecurityLog();
    const report = await this.verifier.verifySession(params.sessionKey);
    if (!report) {
      throw new AuditSessionNotFoundException(params.sessionKey);
    }
    return report;
  }
}

/** A time param as the stored `at` reads (UTC, ms); a date the calendar lacks is refused. */
function isoTime(value: string, name: string): string {
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new AuditTimeInvalidException(name, value);
  return time.toISOString();
}

/** A LIKE pattern matching the text literally (its `%`, `_` and `\\` escaped). */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function requireAdmin(caller: Caller): void {
  if (!caller.scopes.has(ADMIN_SCOPE)) {
    throw new GatewayException(GatewayErrorCode.FORBIDDEN, 'Forbidden', {
      requiredScope: ADMIN_SCOPE,
    });
  }
}
