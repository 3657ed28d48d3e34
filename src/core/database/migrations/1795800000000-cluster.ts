import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What several instances share beyond the event log: the lease under which one instance runs a
 * session's turn, on the session's own row (owner, fencing token, expiry in epoch ms), so that an
 * append reads its fence from the row it locks anyway; and, on PostgreSQL, the rate-limit
 * counters used when there is no Redis (UNLOGGED: counters need no crash safety, and skipping
 * the WAL is most of their write cost). SQLite serves one instance and counts in memory.
 */
export class Cluster1795800000000 implements MigrationInterface {
  name = 'Cluster1795800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.options.type === 'postgres';
    await queryRunner.query(`ALTER TABLE "sessions" ADD "lease_owner" varchar(200)`);
    await queryRunner.query(`ALTER TABLE "sessions" ADD "lease_token" bigint NOT NULL DEFAULT 0`);
    await queryRunner.query(`ALTER TABLE "sessions" ADD "lease_expires_at" bigint`);
    if (postgres) {
      await queryRunner.query(`
        CREATE UNLOGGED TABLE "rate_limit_counters" (
          "key" text NOT NULL,
          "hits" integer NOT NULL,
          "window_ends_at" timestamptz NOT NULL,
          CONSTRAINT "PK_rate_limit_counters" PRIMARY KEY ("key")
        )`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type === 'postgres') {
      await queryRunner.query(`DROP TABLE "rate_limit_counters"`);
    }
    for (const column of ['lease_expires_at', 'lease_token', 'lease_owner']) {
      await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "${column}"`);
    }
  }
}
