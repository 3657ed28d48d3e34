import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * OAuth clients and rotating refresh tokens. Hand-written for SQLite and PostgreSQL; the schema
 * must match the auth entities exactly (the auth schema spec checks there is no drift).
 */
export class Auth1795600000000 implements MigrationInterface {
  name = 'Auth1795600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "oauth_clients" (
        "client_id" varchar(64) NOT NULL,
        "name" varchar(255) NOT NULL,
        "secret_hash" varchar(255) NOT NULL,
        "scopes" text NOT NULL,
        "created_at" varchar(32) NOT NULL,
        "revoked_at" varchar(32),
        CONSTRAINT "PK_oauth_clients" PRIMARY KEY ("client_id")
      )`);
    await queryRunner.query(`
      CREATE TABLE "refresh_tokens" (
        "id" varchar(36) NOT NULL,
        "family_id" varchar(36) NOT NULL,
        "client_id" varchar(64) NOT NULL,
        "subject" varchar(255) NOT NULL,
        "scopes" text NOT NULL,
        "lookup_hash" varchar(64) NOT NULL,
        "token_ciphertext" text NOT NULL,
        "created_at" varchar(32) NOT NULL,
        "expires_at" varchar(32) NOT NULL,
        "used_at" varchar(32),
        "revoked_at" varchar(32),
        CONSTRAINT "PK_refresh_tokens" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_refresh_tokens_lookup" ON "refresh_tokens" ("lookup_hash")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_refresh_tokens_family" ON "refresh_tokens" ("family_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_refresh_tokens_client" ON "refresh_tokens" ("client_id")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_refresh_tokens_client"`);
    await queryRunner.query(`DROP INDEX "IDX_refresh_tokens_family"`);
    await queryRunner.query(`DROP INDEX "UQ_refresh_tokens_lookup"`);
    await queryRunner.query(`DROP TABLE "refresh_tokens"`);
    await queryRunner.query(`DROP TABLE "oauth_clients"`);
  }
}
