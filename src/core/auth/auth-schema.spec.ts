import { afterEach, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { postgresUrl, reportMissingPostgres } from '../../../test/support/databases.js';
import { buildDataSourceOptions } from '../database/database-url.js';
import { OAuthClientEntity } from './oauth-client.entity.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';

/** Undoes the newest migrations until `name` is undone too (later ones may come and go). */
async function undoThrough(dataSource: DataSource, name: string): Promise<void> {
  const applied = async () =>
    (await dataSource.query<Array<{ name: string }>>(`SELECT name FROM migrations`)).map(
      (row) => row.name,
    );
  while ((await applied()).includes(name)) await dataSource.undoLastMigration();
}

const engines: Array<[string, () => Promise<string | undefined>]> = [
  ['SQLite', () => Promise.resolve('sqlite::memory:')],
  ['PostgreSQL', postgresUrl],
];

describe.each(engines)('auth schema on %s', (engine, url) => {
  let dataSource: DataSource | undefined;
  afterEach(() => dataSource?.destroy());

  it('migrates to tables matching the auth entities, keeping stored tokens, and back down', async () => {
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

    // Down to the first auth schema, where refresh tokens had an encrypted copy...
    await undoThrough(dataSource, 'RefreshTokenHygiene1795700000000');
    const runner = dataSource.createQueryRunner();
    try {
      const before = await runner.getTable('refresh_tokens');
      expect(before?.findColumnByName('token_ciphertext')).toBeDefined();
      expect(before?.findColumnByName('family_expires_at')).toBeUndefined();
      await runner.query(
        `INSERT INTO "refresh_tokens" ("id", "family_id", "client_id", "subject", "scopes", "lookup_hash", "token_ciphertext", "created_at", "expires_at") VALUES ('t1', 'f1', 'ocl_a', 'ocl_a', 'agents:read', 'h1', 'v1.x.y.z', '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z')`,
      );
      // ...and up again: the row is kept, its family ending when it does, its copy dropped.
      await dataSource.runMigrations();
      const [row] = (await runner.query(`SELECT * FROM "refresh_tokens"`)) as Array<
        Record<string, unknown>
      >;
      expect(row).toMatchObject({ id: 't1', family_expires_at: '2026-02-01T00:00:00.000Z' });
      expect(row).not.toHaveProperty('token_ciphertext');
      expect((await dataSource.driver.createSchemaBuilder().log()).upQueries).toEqual([]);

      await undoThrough(dataSource, 'Auth1795600000000');
      expect(await runner.hasTable('refresh_tokens')).toBe(false);
      expect(await runner.hasTable('oauth_clients')).toBe(false);
      expect(await runner.hasTable('sessions')).toBe(true);
    } finally {
      await runner.release();
    }
  });
});
