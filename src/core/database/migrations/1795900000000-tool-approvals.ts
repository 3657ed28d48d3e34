import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Human approval of tool calls: one row per call a turn asked a human to decide. The decision
 * is one conditional UPDATE (`WHERE "decision" IS NULL`), so that of concurrent decisions (on any
 * instance, or the waiting turn's own timeout) exactly one wins. Times are epoch milliseconds.
 * The turn's message is part of the key: some models number their calls afresh in every turn.
 */
export class ToolApprovals1795900000000 implements MigrationInterface {
  name = 'ToolApprovals1795900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "tool_approvals" (
        "session_key" varchar(128) NOT NULL,
        "tool_call_id" varchar(256) NOT NULL,
        "message_id" varchar(128) NOT NULL,
        "owner_subject" text NOT NULL,
        "agent_id" text NOT NULL,
        "name" text NOT NULL,
        "arguments" text NOT NULL,
        "requested_at" bigint NOT NULL,
        "expires_at" bigint NOT NULL,
        "decision" varchar(16),
        "decided_by" text,
        "reason" text,
        "decided_at" bigint,
        CONSTRAINT "PK_tool_approvals" PRIMARY KEY ("session_key", "tool_call_id", "message_id")
      )`);
    // tool.approvals.list reads only the pending rows.
    await queryRunner.query(
      `CREATE INDEX "IDX_tool_approvals_pending" ON "tool_approvals" ("expires_at") WHERE "decision" IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_tool_approvals_pending"`);
    await queryRunner.query(`DROP TABLE "tool_approvals"`);
  }
}
