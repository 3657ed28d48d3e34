import type { DataSource } from 'typeorm';

import { canonicalJson } from './canonical-json.js';
import { auditRecordHash, type AuditRecordFields } from './chain-hash.js';

/** A record ready to chain: everything but its seq and hash. */
export type PendingAuditRecord = Omit<AuditRecordFields, 'seq'>;

/** The part of a better-sqlite3 connection used here (the package ships no types). */
interface SqliteDb {
  inTransaction: boolean;
  prepare(sql: string): {
    get(...params: unknown[]): Record<string, unknown> | undefined;
    run(...params: unknown[]): unknown;
  };
  transaction<T>(fn: () => T): { immediate(): T };
}

const COLUMNS = `"seq", "at", "action", "outcome", "subject", "target", "ip", "count", "detail", "hash"`;

/**
 * Appends records to the security audit chain. The head row (`audit_chain_head`, id 1) is read
 * and moved in the transaction that inserts the records: locked FOR UPDATE on PostgreSQL, so
 * that instances appending at once take turns and build one chain; on SQLite the transaction is
 * BEGIN IMMEDIATE (the database's single writer).
 */
export class SecurityAuditWriter {
  constructor(private readonly dataSource: DataSource) {}

  async append(records: readonly PendingAuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (this.dataSource.options.type === 'postgres') return this.appendPostgres(records);
    return this.appendSqlite(records);
  }

  private async appendPostgres(records: readonly PendingAuditRecord[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const [head] = await manager.query<Array<{ last_seq: number; last_hash: string }>>(
        `SELECT "last_seq", "last_hash" FROM "audit_chain_head" WHERE "id" = 1 FOR UPDATE`,
      );
      const rows = chain(Number(head.last_seq), head.last_hash, records);
      const params: unknown[] = [];
      const tuples = rows.map((row) => {
        const base = params.length;
        params.push(...row);
        return `(${row.map((_, i) => `$${base + i + 1}`).join(', ')})`;
      });
      await manager.query(
        `INSERT INTO "audit_events" (${COLUMNS}) VALUES ${tuples.join(', ')}`,
        params,
      );
      const last = rows[rows.length - 1];
      await manager.query(
        `UPDATE "audit_chain_head" SET "last_seq" = $1, "last_hash" = $2 WHERE "id" = 1`,
        [last[0], last[9]],
      );
    });
  }

  private async appendSqlite(records: readonly PendingAuditRecord[]): Promise<void> {
    const driver = this.dataSource.driver as unknown as { databaseConnection: SqliteDb };
    const db = driver.databaseConnection;
    // TypeORM shares this connection; never nest inside someone else's transaction.
    while (db.inTransaction) await new Promise((resolve) => setImmediate(resolve));
    db.transaction(() => {
      const head = db
        .prepare(`SELECT "last_seq", "last_hash" FROM "audit_chain_head" WHERE "id" = 1`)
        .get();
      const rows = chain(Number(head?.last_seq), String(head?.last_hash), records);
      const insert = db.prepare(
        `INSERT INTO "audit_events" (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const row of rows) insert.run(...row);
      const last = rows[rows.length - 1];
      db.prepare(
        `UPDATE "audit_chain_head" SET "last_seq" = ?, "last_hash" = ? WHERE "id" = 1`,
      ).run(last[0], last[9]);
    }).immediate();
  }
}

/** The records as rows in COLUMNS order, numbered and hashed after the head. */
function chain(
  lastSeq: number,
  lastHash: string,
  records: readonly PendingAuditRecord[],
): unknown[][] {
  let prev = lastHash;
  return records.map((record, i) => {
    const fields: AuditRecordFields = { ...record, seq: lastSeq + i + 1 };
    prev = auditRecordHash(prev, fields);
    return [
      fields.seq,
      fields.at,
      fields.action,
      fields.outcome,
      fields.subject,
      fields.target,
      fields.ip,
      fields.count,
      fields.detail === null ? null : canonicalJson(fields.detail),
      prev,
    ];
  });
}
