import type { MigrationInterface, QueryRunner } from 'typeorm';

import { canonicalJson } from '../../audit/canonical-json.js';
import { GENESIS_HASH, sessionEventHash } from '../../audit/chain-hash.js';

/** Sessions, then events of one session, read per page: memory stays bounded whatever the log. */
const SESSIONS_PER_PAGE = 200;
const EVENTS_PER_PAGE = 500;

/**
 * The tamper-evident record: a hash per session event chaining it to the one before
 * (`session_events.hash`, head in `sessions.last_hash`), and the security audit log with its
 * own global chain (`audit_events`, head row in `audit_chain_head`). Existing logs are
 * backfilled: every session's events are hashed in seq order, as the writers hash new ones.
 */
export class AuditChain1795920000000 implements MigrationInterface {
  name = 'AuditChain1795920000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.options.type === 'postgres';
    await queryRunner.query(`ALTER TABLE "session_events" ADD "hash" varchar(64)`);
    await queryRunner.query(`ALTER TABLE "sessions" ADD "last_hash" varchar(64)`);
    await queryRunner.query(`
      CREATE TABLE "audit_events" (
        "seq" integer NOT NULL,
        "at" varchar(32) NOT NULL,
        "action" varchar(64) NOT NULL,
        "outcome" varchar(16) NOT NULL,
        "subject" varchar(255),
        "target" varchar(255),
        "ip" varchar(64),
        "count" integer NOT NULL DEFAULT 1,
        "detail" text,
        "hash" varchar(64) NOT NULL,
        CONSTRAINT "PK_audit_events" PRIMARY KEY ("seq")
      )`);
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_subject" ON "audit_events" ("subject", "seq")`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_audit_events_at" ON "audit_events" ("at")`);
    await queryRunner.query(`
      CREATE TABLE "audit_chain_head" (
        "id" integer NOT NULL,
        "last_seq" integer NOT NULL,
        "last_hash" varchar(64) NOT NULL,
        CONSTRAINT "PK_audit_chain_head" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(
      `INSERT INTO "audit_chain_head" ("id", "last_seq", "last_hash") VALUES (1, 0, '${GENESIS_HASH}')`,
    );
    await backfill(queryRunner, postgres);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_chain_head"`);
    await queryRunner.query(`DROP TABLE "audit_events"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "last_hash"`);
    await queryRunner.query(`ALTER TABLE "session_events" DROP COLUMN "hash"`);
  }
}

interface EventRow {
  id: number;
  seq: number;
  type: string;
  data: string;
  at: string;
}

/** Hashes every existing session's events in seq order, a page at a time. */
async function backfill(queryRunner: QueryRunner, postgres: boolean): Promise<void> {
  const p = (n: number): string => (postgres ? `$${n}` : '?');
  let afterKey = '';
  for (;;) {
    const sessions = (await queryRunner.query(
      `SELECT "session_key" FROM "sessions" WHERE "session_key" > ${p(1)}
       ORDER BY "session_key" LIMIT ${SESSIONS_PER_PAGE}`,
      [afterKey],
    )) as Array<{ session_key: string }>;
    if (sessions.length === 0) return;
    for (const { session_key: sessionKey } of sessions) {
      let prev = GENESIS_HASH;
      let afterSeq = 0;
      for (;;) {
        const events = (await queryRunner.query(
          `SELECT "id", "seq", "type", "data", "at" FROM "session_events"
           WHERE "session_key" = ${p(1)} AND "seq" > ${p(2)} ORDER BY "seq" LIMIT ${EVENTS_PER_PAGE}`,
          [sessionKey, afterSeq],
        )) as EventRow[];
        if (events.length === 0) break;
        const params: unknown[] = [];
        const cases: string[] = [];
        for (const event of events) {
          prev = sessionEventHash(prev, {
            sessionKey,
            seq: Number(event.seq),
            type: event.type,
            at: event.at,
            dataJson: canonicalJson(JSON.parse(event.data)),
          });
          params.push(Number(event.id), prev);
          cases.push(`WHEN ${p(params.length - 1)} THEN ${p(params.length)}`);
        }
        const ids = events.map((e) => Number(e.id));
        params.push(...ids);
        const idList = ids.map((_, i) => p(params.length - ids.length + i + 1)).join(', ');
        await queryRunner.query(
          `UPDATE "session_events" SET "hash" = CASE "id" ${cases.join(' ')} END WHERE "id" IN (${idList})`,
          params,
        );
        afterSeq = Number(events[events.length - 1].seq);
      }
      await queryRunner.query(
        `UPDATE "sessions" SET "last_hash" = ${p(1)} WHERE "session_key" = ${p(2)}`,
        [prev, sessionKey],
      );
    }
    afterKey = sessions[sessions.length - 1].session_key;
  }
}
