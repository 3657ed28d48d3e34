import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Token usage per answered turn (`token_usage`), keyed by the `message.agent` it came from so
 * that recording is idempotent; indexed for the budget sums by subject and time and for the
 * totals by agent. The log keeps the same numbers on each `message.agent`; this table makes
 * summing them cheap.
 */
export class TokenUsage1795910000000 implements MigrationInterface {
  name = 'TokenUsage1795910000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "token_usage" (
        "session_key" varchar(64) NOT NULL,
        "seq" integer NOT NULL,
        "subject" varchar(255) NOT NULL,
        "agent_id" varchar(255) NOT NULL,
        "at" bigint NOT NULL,
        "input_tokens" integer NOT NULL,
        "output_tokens" integer NOT NULL,
        "total_tokens" integer NOT NULL,
        CONSTRAINT "PK_token_usage" PRIMARY KEY ("session_key", "seq")
      )`);
    await queryRunner.query(
      `CREATE INDEX "IDX_token_usage_subject_at" ON "token_usage" ("subject", "at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_token_usage_agent_at" ON "token_usage" ("agent_id", "at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_token_usage_agent_at"`);
    await queryRunner.query(`DROP INDEX "IDX_token_usage_subject_at"`);
    await queryRunner.query(`DROP TABLE "token_usage"`);
  }
}
