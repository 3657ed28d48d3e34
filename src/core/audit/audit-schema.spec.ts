import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';

import { postgresUrl, reportMissingPostgres } from '../../../test/support/databases.js';
import { buildDataSourceOptions, DATABASE_MIGRATIONS } from '../database/database-url.js';
import { AuditChain1795920000000 } from '../database/migrations/1795920000000-audit-chain.js';
import { AuditChainHeadEntity } from './audit-chain-head.entity.js';
import { AuditEventEntity } from './audit-event.entity.js';
import { GENESIS_HASH } from './chain-hash.js';

const postgresAvailable = (await postgresUrl()) !== undefined;
if (!postgresAvailable) reportMissingPostgres('audit schema');

const engines = [
  { name: 'SQLite', url: () => Promise.resolve('sqlite::memory:'), skip: false },
  { name: 'PostgreSQL', url: async () => (await postgresUrl())!, skip: !postgresAvailable },
];

describe.each(engines)('audit schema on $name', ({ url, skip }) => {
  let dataSource: DataSource | undefined;
  afterEach(() => dataSource?.destroy());

  it.skipIf(skip)(
    'migrates to tables matching the audit entities, with the chain head at genesis, and back down',
    async () => {
      dataSource = new DataSource(
        buildDataSourceOptions(await url(), {
          migrationsRun: false,
          entities: [AuditEventEntity, AuditChainHeadEntity],
        }),
      );
      await dataSource.initialize();
      await dataSource.runMigrations();
      const drift = await dataSource.driver.createSchemaBuilder().log();
      expect(drift.upQueries.map((q) => q.query)).toEqual([]);
      expect(await dataSource.query(`SELECT * FROM "audit_chain_head"`)).toEqual([
        { id: 1, last_seq: 0, last_hash: GENESIS_HASH },
      ]);

      // Back down to just before the audit chain (the migrations after it first).
      const after =
        DATABASE_MIGRATIONS.length - DATABASE_MIGRATIONS.indexOf(AuditChain1795920000000);
      for (let i = 0; i < after; i++) await dataSource.undoLastMigration();
      const runner = dataSource.createQueryRunner();
      try {
        expect(await runner.hasTable('audit_events')).toBe(false);
        expect(await runner.hasTable('audit_chain_head')).toBe(false);
        expect(await runner.hasColumn('session_events', 'hash')).toBe(false);
        expect(await runner.hasColumn('sessions', 'last_hash')).toBe(false);
        expect(await runner.hasTable('session_events')).toBe(true);
      } finally {
        await runner.release();
      }
    },
  );
});
