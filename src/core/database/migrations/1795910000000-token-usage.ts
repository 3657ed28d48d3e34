import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Token usage per answered turn (`token_usage`), keyed by the `message.agent` it came from so
 * that recording is idempotent; indexed for the budget sums (by session, by subject and time) and
 * for time ranges. `token_usage_totals` keeps running totals per UTC day, agent and subject, so
 * all-time totals read a few rows. The log keeps the same numbers on each `message.agent`.
 */
export class TokenUsage1795910000000 implements MigrationInterface {
  name = 'TokenUsage1795910000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.options.type === 'postgres';
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
    await queryRunner.query(`CREATE INDEX "IDX_token_usage_at" ON "token_usage" ("at")`);
    await queryRunner.query(`
      CREATE TABLE "token_usage_totals" (
        "day" bigint NOT NULL,
        "agent_id" varchar(255) NOT NULL,
        "subject" varchar(255) NOT NULL,
        "input_tokens" bigint NOT NULL,
        "output_tokens" bigint NOT NULL,
        "total_tokens" bigint NOT NULL,
        CONSTRAINT "PK_token_usage_totals" PRIMARY KEY ("day", "agent_id", "subject")
      )`);
    await queryRunner.query(
      `CREATE INDEX "IDX_token_usage_totals_agent" ON "token_usage_totals" ("agent_id", "day")`,
    );
    // The totals move in the statement that inserts a turn's row, and only when it does (a
    // repeated record inserts nothing): they cannot drift from the rows, whatever dies when.
    const rollUp = `
      INSERT INTO "token_usage_totals" ("day", "agent_id", "subject", "input_tokens", "output_tokens", "total_tokens")
      VALUES ((NEW."at" / 86400000) * 86400000, NEW."agent_id", NEW."subject", NEW."input_tokens", NEW."output_tokens", NEW."total_tokens")
      ON CONFLICT ("day", "agent_id", "subject") DO UPDATE SET
        "input_tokens" = "token_usage_totals"."input_tokens" + excluded."input_tokens",
        "output_tokens" = "token_usage_totals"."output_tokens" + excluded."output_tokens",
        "total_tokens" = "token_usage_totals"."total_tokens" + excluded."total_tokens";`;
    if (postgres) {
      await queryRunner.query(`
        CREATE FUNCTION "token_usage_roll_up"() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN ${rollUp}
          RETURN NULL;
        END $$`);
      await queryRunner.query(`
        CREATE TRIGGER "TRG_token_usage_roll_up" AFTER INSERT ON "token_usage"
        FOR EACH ROW EXECUTE FUNCTION "token_usage_roll_up"()`);
    } else {
      await queryRunner.query(`
        CREATE TRIGGER "TRG_token_usage_roll_up" AFTER INSERT ON "token_usage"
        BEGIN ${rollUp}
        END`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.options.type === 'postgres';
    await queryRunner.query(
      `DROP TRIGGER "TRG_token_usage_roll_up"${postgres ? ' ON "token_usage"' : ''}`,
    );
    if (postgres) await queryRunner.query(`DROP FUNCTION "token_usage_roll_up"()`);
    await queryRunner.query(`DROP INDEX "IDX_token_usage_totals_agent"`);
    await queryRunner.query(`DROP TABLE "token_usage_totals"`);
    await queryRunner.query(`DROP INDEX "IDX_token_usage_at"`);
    await queryRunner.query(`DROP INDEX "IDX_token_usage_agent_at"`);
    await queryRunner.query(`DROP INDEX "IDX_token_usage_subject_at"`);
    await queryRunner.query(`DROP TABLE "token_usage"`);
  }
}
