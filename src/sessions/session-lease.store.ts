import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  PG_NOW_MS,
  PostgresLeaseAcquirer,
  type PgLeaseQueryable,
} from './postgres-lease.acquirer.js';

/** A held lease: the fencing token proves, inside an append's transaction, that it is still ours. */
export interface SessionLease {
  sessionKey: string;
  owner: string;
  token: number;
  /** The session's newest seq when the lease was taken: what a turn's conversation must hold. */
  lastSeq: number;
}

type Row = Record<string, unknown>;

/** TypeORM's structured query result. */
interface QueryResult {
  records: Row[];
}

/**
 * The lease under which one instance runs a session's turn, kept on the session's row: owner,
 * expiry and a fencing token that grows by one at every acquisition. A lease is taken when free
 * or expired, renewed while the turn runs and released at its end (usually by the turn's last
 * append, in the same statement). An instance whose lease was taken over can renew nothing, and
 * its appends fail the token check. PostgreSQL times leases on its own clock, so instances with
 * skewed clocks agree; SQLite (one machine) on Date.now(). On PostgreSQL the statements go to the
 * driver's pool directly (no TypeORM query runner per call), and the acquires of one turn of the
 * event loop share one statement.
 */
@Injectable()
export class SessionLeaseStore {
  private readonly postgres: boolean;
  private readonly acquirer?: PostgresLeaseAcquirer;

  constructor(private readonly dataSource: DataSource) {
    this.postgres = dataSource.options.type === 'postgres';
    if (this.postgres) this.acquirer = new PostgresLeaseAcquirer(() => this.pool());
  }

  /** Statements and acquires of the batched PostgreSQL path (undefined on SQLite). */
  get acquireStats(): PostgresLeaseAcquirer['stats'] | undefined {
    return this.acquirer?.stats;
  }

  /** Takes the lease when it is free or expired; undefined while another holder has it. */
  async acquire(
    sessionKey: string,
    owner: string,
    ttlMs: number,
  ): Promise<SessionLease | undefined> {
    if (this.acquirer) return this.acquirer.acquire(sessionKey, owner, ttlMs);
    const rows = await this.run(
      `UPDATE "sessions" SET "lease_owner" = ?, "lease_token" = "lease_token" + 1,
             "lease_expires_at" = ?
           WHERE "session_key" = ? AND ("lease_owner" IS NULL OR "lease_expires_at" <= ?)
           RETURNING "lease_token", "last_seq"`,
      [owner, Date.now() + ttlMs, sessionKey, Date.now()],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return { sessionKey, owner, token: Number(row.lease_token), lastSeq: Number(row.last_seq) };
  }

  /** Extends a lease still held; false when it was lost (expired and taken over, or freed). */
  async renew(lease: SessionLease, ttlMs: number): Promise<boolean> {
    const rows = this.postgres
      ? await this.run(
          `UPDATE "sessions" SET "lease_expires_at" = ${PG_NOW_MS} + $4
           WHERE "session_key" = $1 AND "lease_owner" = $2 AND "lease_token" = $3
           RETURNING "lease_token"`,
          [lease.sessionKey, lease.owner, lease.token, ttlMs],
        )
      : await this.run(
          `UPDATE "sessions" SET "lease_expires_at" = ?
           WHERE "session_key" = ? AND "lease_owner" = ? AND "lease_token" = ?
           RETURNING "lease_token"`,
          [Date.now() + ttlMs, lease.sessionKey, lease.owner, lease.token],
        );
    return rows.length > 0;
  }

  /** Frees a lease still held (a lost one is someone else's now and stays theirs). */
  async release(lease: SessionLease): Promise<void> {
    await this.run(
      this.postgres
        ? `UPDATE "sessions" SET "lease_owner" = NULL
           WHERE "session_key" = $1 AND "lease_owner" = $2 AND "lease_token" = $3`
        : `UPDATE "sessions" SET "lease_owner" = NULL
           WHERE "session_key" = ? AND "lease_owner" = ? AND "lease_token" = ?`,
      [lease.sessionKey, lease.owner, lease.token],
    );
  }

  /**
   * The lease held on the session now (not freed, not expired), or undefined: whether a turn
   * runs anywhere, and under which fencing token (session.cancel).
   */
  async holder(sessionKey: string): Promise<Pick<SessionLease, 'owner' | 'token'> | undefined> {
    const rows = this.postgres
      ? await this.run(
          `SELECT "lease_owner", "lease_token" FROM "sessions"
           WHERE "session_key" = $1 AND "lease_owner" IS NOT NULL
             AND "lease_expires_at" > ${PG_NOW_MS}`,
          [sessionKey],
        )
      : await this.run(
          `SELECT "lease_owner", "lease_token" FROM "sessions"
           WHERE "session_key" = ? AND "lease_owner" IS NOT NULL AND "lease_expires_at" > ?`,
          [sessionKey, Date.now()],
        );
    const row = rows[0];
    if (row === undefined) return undefined;
    return { owner: String(row.lease_owner), token: Number(row.lease_token) };
  }

  /** The driver's pg pool: it exists once the data source is initialized. */
  private pool(): PgLeaseQueryable {
    return (this.dataSource.driver as unknown as { master: PgLeaseQueryable }).master;
  }

  /** Rows a statement returned, alike on both engines (plain results differ for UPDATE). */
  private async run(sql: string, params: unknown[]): Promise<Row[]> {
    if (this.postgres) return (await this.pool().query(sql, params)).rows;
    const runner = this.dataSource.createQueryRunner();
    try {
      const result = (await runner.query(sql, params, true)) as QueryResult;
      return result.records;
    } finally {
      await runner.release();
    }
  }
}
