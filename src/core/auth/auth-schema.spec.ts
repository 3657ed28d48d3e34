import { afterEach, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { postgresUrl, reportMissingPostgres } from '../../../test/support/databases.js';
import { buildDataSourceOptions } from '../database/database-url.js';
import { OAuthClientEntity } from './oauth-client.entity.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';

const engines: Array<[string, () => Promise<string | undefined>]> = [
  ['SQLite', () => Promise.resolve('sqlite::memory:')],
  ['PostgreSQL', postgresUrl],
];

describe.each(engines)('auth schema on %s', (engine, url) => {
  let dataSource: DataSource | undefined;
  afterEach(() => dataSource?.destroy());

  it('migrates to tables matching the auth entities, and back down', async () => {
    const resolved = await url();
    if (resolved === undefined) {
      reportMissingPostgres(`auth schema on ${engine}`);
      return;
    }
    dataSource = new DataSource(
      buildDataSourceOptions(resolved, {
        migrationsRun: false,
        entities: [OAuthClientEntity, RefreshTokenEntity],
      }),
    );
    await dataSource.initialize();
    await dataSource.runMigrations();
    const drift = await dataSource.driver.createSchemaBuilder().log();
    expect(drift.upQueries.map((q) => q.query)).toEqual([]);

    await dataSource.undoLastMigration();
    const runner = dataSource.createQueryRunner();
    try {
      expect(await runner.hasTable('refresh_tokens')).toBe(false);
      expect(await runner.hasTable('oauth_clients')).toBe(false);
      expect(await runner.hasTable('sessions')).toBe(true);
    } finally {
      await runner.release();
    }
  });
});
