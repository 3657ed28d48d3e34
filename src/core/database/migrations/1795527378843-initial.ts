import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sessions and their append-only event log. Hand-written for SQLite and PostgreSQL; the
 * schema must match the entities exactly (the event store spec checks there is no drift).
 */
export class Initial1795527378843 implements MigrationInterface {
  name = 'Initial1795527378843';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.options.type === 'postgres';
    await queryRunner.query(`
      CREATE TABLE "sessions" (
        "session_key" varchar(64) NOT NULL,
        "owner_subject" varchar(255) NOT NULL,
        "agent_id" varchar(255) NOT NULL,
        "metadata" text NOT NULL,
        "status" varchar(16) NOT NULL,
        "last_seq" integer NOT NULL,
        "created_at" varchar(32) NOT NULL,
        "ended_at" varchar(32),
        CONSTRAINT "PK_sessions" PRIMARY KEY ("session_key")
      )`);
    await queryRunner.query(
      `CREATE INDEX "IDX_sessions_owner_created" ON "sessions" ("owner_subject", "created_at", "session_key")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_sessions_created" ON "sessions" ("created_at", "session_key")`,
    );
    const id = postgres
      ? `"id" SERIAL NOT NULL`
      : `"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL`;
    await queryRunner.query(`
      CREATE TABLE "session_events" (
        ${id},
        "session_key" varchar(64) NOT NULL,
        "seq" integer NOT NULL,
        "type" varchar(64) NOT NULL,
        "data" text NOT NULL,
        "at" varchar(32) NOT NULL,
        "idempotency_key" varchar(255),
        ${postgres ? `CONSTRAINT "PK_session_events" PRIMARY KEY ("id"),` : ''}
        CONSTRAINT "FK_session_events_session" FOREIGN KEY ("session_key") REFERENCES "sessions" ("session_key") ON DELETE NO ACTION ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_session_events_session_seq" ON "session_events" ("session_key", "seq")`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_session_events_session_idempotency" ON "session_events" ("session_key", "idempotency_key")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "UQ_session_events_session_idempotency"`);
    await queryRunner.query(`DROP INDEX "UQ_session_events_session_seq"`);
    await queryRunner.query(`DROP TABLE "session_events"`);
    await queryRunner.query(`DROP INDEX "IDX_sessions_created"`);
    await queryRunner.query(`DROP INDEX "IDX_sessions_owner_created"`);
    await queryRunner.query(`DROP TABLE "sessions"`);
  }
}
