import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ToolApprovalDecision, ToolApprovalRequest } from './tool-approval.types.js';

/** A stored approval request, pending or decided. */
export interface ToolApprovalRecord extends ToolApprovalRequest {
  messageId: string;
  requestedAt: number;
  decision?: ToolApprovalDecision;
  /** Who decided; null when nobody did (timed out, turn cancelled). */
  decidedBy?: string | null;
  reason?: string;
}

/** One request: a call of one turn (its message) in one session. */
export interface ToolApprovalKey {
  sessionKey: string;
  toolCallId: string;
  messageId: string;
}

/** What a decision writes; `by` null when the gateway decided (timeout, cancellation). */
export interface ToolApprovalVerdict {
  decision: ToolApprovalDecision;
  by: string | null;
  reason?: string;
}

type Row = Record<string, unknown>;

/**
 * PostgreSQL (several instances): a request is decidable only while its turn still holds the
 * session's lease; a turn whose instance died stops renewing it, and its request goes with it.
 */
const LIVE_TURN = ` AND EXISTS (SELECT 1 FROM "sessions" s
  WHERE s."session_key" = "tool_approvals"."session_key" AND s."lease_owner" IS NOT NULL
    AND s."lease_expires_at" > (extract(epoch FROM clock_timestamp()) * 1000)::bigint)`;

/** Rows read back whole, most recent requests last. */
const MAX_PENDING_LISTED = 500;

const COLUMNS = `"session_key", "tool_call_id", "message_id", "owner_subject", "agent_id", "name",
  "arguments", "requested_at", "expires_at", "decision", "decided_by", "reason"`;

/**
 * The `tool_approvals` table, shared by every instance: the waiting turn inserts its request,
 * any instance decides it with one conditional UPDATE, so exactly one decision wins. Times are
 * epoch milliseconds on the writing instance's clock.
 */
@Injectable()
export class ToolApprovalStore {
  private readonly postgres: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.postgres = dataSource.options.type === 'postgres';
  }

  async insert(record: ToolApprovalRecord): Promise<void> {
    await this.run(
      `INSERT INTO "tool_approvals" ("session_key", "tool_call_id", "message_id",
         "owner_subject", "agent_id", "name", "arguments", "requested_at", "expires_at")
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        record.sessionKey,
        record.toolCallId,
        record.messageId,
        record.ownerSubject,
        record.agentId,
        record.name,
        JSON.stringify(record.arguments),
        record.requestedAt,
        Date.parse(record.expiresAt),
      ],
    );
  }

  /** The latest request for this call id in the session (ids may repeat across turns). */
  async get(sessionKey: string, toolCallId: string): Promise<ToolApprovalRecord | undefined> {
    const rows = await this.run(
      `SELECT ${COLUMNS} FROM "tool_approvals" WHERE "session_key" = ? AND "tool_call_id" = ?
       ORDER BY "requested_at" DESC LIMIT 1`,
      [sessionKey, toolCallId],
    );
    return rows[0] && toRecord(rows[0]);
  }

  async getOf(key: ToolApprovalKey): Promise<ToolApprovalRecord | undefined> {
    const rows = await this.run(
      `SELECT ${COLUMNS} FROM "tool_approvals"
       WHERE "session_key" = ? AND "tool_call_id" = ? AND "message_id" = ?`,
      [key.sessionKey, key.toolCallId, key.messageId],
    );
    return rows[0] && toRecord(rows[0]);
  }

  /**
   * Decides a pending request; false when it was decided already (by anyone) or, with
   * `unexpiredAt` (a human's decision), when it expired before that time or its turn is gone.
   */
  async decide(
    key: ToolApprovalKey,
    verdict: ToolApprovalVerdict,
    unexpiredAt?: number,
  ): Promise<boolean> {
    const expiry =
      unexpiredAt === undefined ? '' : ` AND "expires_at" > ?${this.postgres ? LIVE_TURN : ''}`;
    const rows = await this.run(
      `UPDATE "tool_approvals" SET "decision" = ?, "decided_by" = ?, "reason" = ?, "decided_at" = ?
       WHERE "session_key" = ? AND "tool_call_id" = ? AND "message_id" = ?
         AND "decision" IS NULL${expiry}
       RETURNING "tool_call_id"`,
      [
        verdict.decision,
        verdict.by,
        verdict.reason ?? null,
        Date.now(),
        key.sessionKey,
        key.toolCallId,
        key.messageId,
        ...(unexpiredAt === undefined ? [] : [unexpiredAt]),
      ],
    );
    return rows.length > 0;
  }

  /** Pending, unexpired requests, oldest first; `excludeOwner`'s sessions left out. */
  async pending(now: number, excludeOwner?: string): Promise<ToolApprovalRecord[]> {
    const owner = excludeOwner === undefined ? '' : ` AND "owner_subject" <> ?`;
    const rows = await this.run(
      `SELECT ${COLUMNS} FROM "tool_approvals"
       WHERE "decision" IS NULL AND "expires_at" > ?${owner}${this.postgres ? LIVE_TURN : ''}
       ORDER BY "requested_at", "tool_call_id" LIMIT ${MAX_PENDING_LISTED}`,
      [now, ...(excludeOwner === undefined ? [] : [excludeOwner])],
    );
    return rows.map(toRecord);
  }

  /**
   * Denies every pending request: on SQLite, which serves one instance, no turn can still be
   * waiting for one when the gateway starts (the previous process crashed). Returns how many.
   */
  async abandonPending(reason: string): Promise<number> {
    const rows = await this.run(
      `UPDATE "tool_approvals" SET "decision" = 'deny', "reason" = ?, "decided_at" = ?
       WHERE "decision" IS NULL RETURNING "tool_call_id"`,
      [reason, Date.now()],
    );
    return rows.length;
  }

  /** Rows a statement returned, alike on both engines; `?` placeholders numbered for PostgreSQL. */
  private async run(sql: string, params: unknown[]): Promise<Row[]> {
    let n = 0;
    const text = this.postgres ? sql.replace(/\?/g, () => `$${++n}`) : sql;
    const runner = this.dataSource.createQueryRunner();
    try {
      const result = (await runner.query(text, params, true)) as { records?: Row[] };
      return result.records ?? [];
    } finally {
      await runner.release();
    }
  }
}

function toRecord(row: Row): ToolApprovalRecord {
  const record: ToolApprovalRecord = {
    sessionKey: String(row.session_key),
    toolCallId: String(row.tool_call_id),
    messageId: String(row.message_id),
    ownerSubject: String(row.owner_subject),
    agentId: String(row.agent_id),
    name: String(row.name),
    arguments: JSON.parse(String(row.arguments)) as Record<string, unknown>,
    requestedAt: Number(row.requested_at),
    expiresAt: new Date(Number(row.expires_at)).toISOString(),
  };
  if (row.decision !== null && row.decision !== undefined) {
    record.decision = row.decision as ToolApprovalDecision;
    record.decidedBy = typeof row.decided_by === 'string' ? row.decided_by : null;
    if (typeof row.reason === 'string') record.reason = row.reason;
  }
  return record;
}
