import type { DataSource } from 'typeorm';
import type { AuditRecordFields } from '../core/audit/chain-hash.js';

const PAGE = 500;

/** A stored session event as the chain covers it. */
export interface ChainedSessionEvent {
  sessionKey: string;
  seq: number;
  type: string;
  at: string;
  /** The stored text (JSON). */
  data: string;
  hash: string | null;
}

/** A stored security audit record: its hashed fields, `detail` as stored (JSON text). */
export interface ChainedAuditRecord extends Omit<AuditRecordFields, 'detail'> {
  detail: string | null;
  hash: string;
}

/** The columns of a security audit record, in the order every read selects them. */
export const AUDIT_RECORD_COLUMNS =
  '"seq", "at", "action", "outcome", "subject", "target", "ip", "count", "detail", "hash"';

/** A row as the driver returns it (PostgreSQL's bigints as strings) with its numbers as numbers. */
export function toChainedAuditRecord(row: ChainedAuditRecord): ChainedAuditRecord {
  return { ...row, seq: Number(row.seq), count: Number(row.count) };
}

/**
 * Reads the chains page by page in seq order (keyset paging on the unique indexes), so that
 * walking a log of any size holds one page in memory. Plain SQL on both engines.
 */
export class AuditChainReader {
  private readonly postgres: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.postgres = dataSource.options.type === 'postgres';
  }

  private p(n: number): string {
    return this.postgres ? `$${n}` : '?';
  }

  /** Session keys (all, in key order), with each session's head. */
  async *sessions(): AsyncGenerator<{
    sessionKey: string;
    lastSeq: number;
    lastHash: string | null;
  }> {
    let after = '';
    for (;;) {
      const rows: Array<{ session_key: string; last_seq: number; last_hash: string | null }> =
        await this.dataSource.query(
          `SELECT "session_key", "last_seq", "last_hash" FROM "sessions" WHERE "session_key" > ${this.p(1)}
           ORDER BY "session_key" LIMIT ${PAGE}`,
          [after],
        );
      for (const row of rows) {
        yield {
          sessionKey: row.session_key,
          lastSeq: Number(row.last_seq),
          lastHash: row.last_hash,
        };
      }
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1].session_key;
    }
  }

  async session(
    sessionKey: string,
  ): Promise<{ sessionKey: string; lastSeq: number; lastHash: string | null } | undefined> {
    const rows: Array<{ last_seq: number; last_hash: string | null }> = await this.dataSource.query(
      `SELECT "last_seq", "last_hash" FROM "sessions" WHERE "session_key" = ${this.p(1)}`,
      [sessionKey],
    );
    return rows.length === 0
      ? undefined
      : { sessionKey, lastSeq: Number(rows[0].last_seq), lastHash: rows[0].last_hash };
  }

  /** A session's events after `afterSeq`, in seq order. */
  async *sessionEvents(sessionKey: string, afterSeq = 0): AsyncGenerator<ChainedSessionEvent> {
    let after = afterSeq;
    for (;;) {
      const rows: Array<Omit<ChainedSessionEvent, 'sessionKey'>> = await this.dataSource.query(
        `SELECT "seq", "type", "at", "data", "hash" FROM "session_events"
         WHERE "session_key" = ${this.p(1)} AND "seq" > ${this.p(2)} ORDER BY "seq" LIMIT ${PAGE}`,
        [sessionKey, after],
      );
      for (const row of rows) yield { ...row, sessionKey, seq: Number(row.seq) };
      if (rows.length < PAGE) return;
      after = Number(rows[rows.length - 1].seq);
    }
  }

  /** The stored hash of a session's event `seq`, or undefined. */
  async sessionEventHash(sessionKey: string, seq: number): Promise<string | null | undefined> {
    const rows: Array<{ hash: string | null }> = await this.dataSource.query(
      `SELECT "hash" FROM "session_events" WHERE "session_key" = ${this.p(1)} AND "seq" = ${this.p(2)}`,
      [sessionKey, seq],
    );
    return rows.length === 0 ? undefined : rows[0].hash;
  }

  /** The first seq of a session at or after a time (the export's `--since`), or undefined. */
  async firstSeqSince(sessionKey: string, since: string): Promise<number | undefined> {
    const rows: Array<{ seq: number | null }> = await this.dataSource.query(
      `SELECT MIN("seq") AS "seq" FROM "session_events" WHERE "session_key" = ${this.p(1)} AND "at" >= ${this.p(2)}`,
      [sessionKey, since],
    );
    return rows[0]?.seq === null || rows[0]?.seq === undefined ? undefined : Number(rows[0].seq);
  }

  async auditHead(): Promise<{ lastSeq: number; lastHash: string }> {
    const rows: Array<{ last_seq: number; last_hash: string }> = await this.dataSource.query(
      `SELECT "last_seq", "last_hash" FROM "audit_chain_head" WHERE "id" = 1`,
    );
    return { lastSeq: Number(rows[0]?.last_seq ?? 0), lastHash: rows[0]?.last_hash ?? '' };
  }

  /** Security audit records after `afterSeq`, in seq order. */
  async *auditRecords(afterSeq = 0): AsyncGenerator<ChainedAuditRecord> {
    let after = afterSeq;
    for (;;) {
      const rows: ChainedAuditRecord[] = await this.dataSource.query(
        `SELECT ${AUDIT_RECORD_COLUMNS}
         FROM "audit_events" WHERE "seq" > ${this.p(1)} ORDER BY "seq" LIMIT ${PAGE}`,
        [after],
      );
      for (const row of rows) yield toChainedAuditRecord(row);
      if (rows.length < PAGE) return;
      after = Number(rows[rows.length - 1].seq);
    }
  }

  async auditRecordHash(seq: number): Promise<string | undefined> {
    const rows: Array<{ hash: string }> = await this.dataSource.query(
      `SELECT "hash" FROM "audit_events" WHERE "seq" = ${this.p(1)}`,
      [seq],
    );
    return rows[0]?.hash;
  }

  async firstAuditSeqSince(since: string): Promise<number | undefined> {
    const rows: Array<{ seq: number | null }> = await this.dataSource.query(
      `SELECT MIN("seq") AS "seq" FROM "audit_events" WHERE "at" >= ${this.p(1)}`,
      [since],
    );
    return rows[0]?.seq === null || rows[0]?.seq === undefined ? undefined : Number(rows[0].seq);
  }
}
