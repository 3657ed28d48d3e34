import type { MigrationInterface, QueryRunner } from 'typeorm';

const INDEX = 'UQ_session_events_session_idempotency';

/**
 * `(session_key, idempotency_key)` stays unique, but only events with a key are indexed. Most
 * events have none, and every one of them used to add an entry (NULLs are distinct, so they
 * never collided): a leaf page of this index per session in each group commit (without them,
 * the SQLite writer thread's CPU per echo turn fell by a fifth). Lookups by key (`idempotency_key = ?` implies NOT NULL) use the partial
 * index on both engines.
 */
export class PartialIdempotencyIndex1795930000000 implements MigrationInterface {
  name = 'PartialIdempotencyIndex1795930000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "${INDEX}"`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "${INDEX}" ON "session_events" ("session_key", "idempotency_key") WHERE "idempotency_key" IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "${INDEX}"`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "${INDEX}" ON "session_events" ("session_key", "idempotency_key")`,
    );
  }
}
