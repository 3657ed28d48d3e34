import type { MigrationInterface, QueryRunner } from 'typeorm';

const KEPT_COLUMNS = [
  'id',
  'family_id',
  'client_id',
  'subject',
  'scopes',
  'lookup_hash',
  'created_at',
  'expires_at',
  'used_at',
  'revoked_at',
]
  .map((column) => `"${column}"`)
  .join(', ');

const INDEXES = [
  `CREATE UNIQUE INDEX "UQ_refresh_tokens_lookup" ON "refresh_tokens" ("lookup_hash")`,
  `CREATE INDEX "IDX_refresh_tokens_family" ON "refresh_tokens" ("family_id")`,
  `CREATE INDEX "IDX_refresh_tokens_client" ON "refresh_tokens" ("client_id")`,
];

/**
 * Refresh tokens keep only their keyed hash (the encrypted copy was never read back), each row
 * carries its family's absolute expiry, and expired rows are found by an index for purging.
 * Rows already stored keep working: their family ends when they do. Hand-written for SQLite
 * (which rebuilds the table to change a NOT NULL column) and PostgreSQL (which alters it).
 */
export class RefreshTokenHygiene1795700000000 implements MigrationInterface {
  name = 'RefreshTokenHygiene1795700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type === 'postgres') {
      await queryRunner.query(`ALTER TABLE "refresh_tokens" ADD "family_expires_at" varchar(32)`);
      await queryRunner.query(`UPDATE "refresh_tokens" SET "family_expires_at" = "expires_at"`);
      await queryRunner.query(
        `ALTER TABLE "refresh_tokens" ALTER COLUMN "family_expires_at" SET NOT NULL`,
      );
      await queryRunner.query(`ALTER TABLE "refresh_tokens" DROP COLUMN "token_ciphertext"`);
    } else {
      await rebuildSqlite(
        queryRunner,
        `"family_expires_at" varchar(32) NOT NULL`,
        `${KEPT_COLUMNS}, "family_expires_at"`,
        `${KEPT_COLUMNS}, "expires_at"`,
      );
    }
    await queryRunner.query(
      `CREATE INDEX "IDX_refresh_tokens_expires" ON "refresh_tokens" ("expires_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_refresh_tokens_expires"`);
    // The encrypted copy cannot be recovered; nothing ever read it, so an empty one serves.
    if (queryRunner.connection.options.type === 'postgres') {
      await queryRunner.query(
        `ALTER TABLE "refresh_tokens" ADD "token_ciphertext" text NOT NULL DEFAULT ''`,
      );
      await queryRunner.query(
        `ALTER TABLE "refresh_tokens" ALTER COLUMN "token_ciphertext" DROP DEFAULT`,
      );
      await queryRunner.query(`ALTER TABLE "refresh_tokens" DROP COLUMN "family_expires_at"`);
    } else {
      await rebuildSqlite(
        queryRunner,
        `"token_ciphertext" text NOT NULL`,
        `${KEPT_COLUMNS}, "token_ciphertext"`,
        `${KEPT_COLUMNS}, ''`,
      );
    }
  }
}

/** SQLite's way to change columns: a new table, the rows copied, the old one replaced. */
async function rebuildSqlite(
  queryRunner: QueryRunner,
  extraColumn: string,
  insertColumns: string,
  selectColumns: string,
): Promise<void> {
  await queryRunner.query(`
    CREATE TABLE "temporary_refresh_tokens" (
      "id" varchar(36) NOT NULL,
      "family_id" varchar(36) NOT NULL,
      "client_id" varchar(64) NOT NULL,
      "subject" varchar(255) NOT NULL,
      "scopes" text NOT NULL,
      "lookup_hash" varchar(64) NOT NULL,
      "created_at" varchar(32) NOT NULL,
      "expires_at" varchar(32) NOT NULL,
      ${extraColumn},
      "used_at" varchar(32),
      "revoked_at" varchar(32),
      CONSTRAINT "PK_refresh_tokens" PRIMARY KEY ("id")
    )`);
  await queryRunner.query(
    `INSERT INTO "temporary_refresh_tokens" (${insertColumns}) SELECT ${selectColumns} FROM "refresh_tokens"`,
  );
  await queryRunner.query(`DROP INDEX "IDX_refresh_tokens_client"`);
  await queryRunner.query(`DROP INDEX "IDX_refresh_tokens_family"`);
  await queryRunner.query(`DROP INDEX "UQ_refresh_tokens_lookup"`);
  await queryRunner.query(`DROP TABLE "refresh_tokens"`);
  await queryRunner.query(`ALTER TABLE "temporary_refresh_tokens" RENAME TO "refresh_tokens"`);
  for (const index of INDEXES) await queryRunner.query(index);
}
