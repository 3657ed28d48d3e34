import { DataSource } from 'typeorm';
import type { DatabaseExtensionOptions } from './database-extension.js';
import { buildDataSourceOptions } from './database-url.js';

/**
 * Applies every pending migration (built-in and extensions') to the database at `url`, each in
 * its own transaction, and returns the names applied. What `openclaw-gateway migrate` and
 * GatewayBuilder.migrate() run, for deployments that keep database.migrationsRun off.
 */
export async function runPendingMigrations(
  url: string,
  extension: DatabaseExtensionOptions = {},
): Promise<string[]> {
  const dataSource = new DataSource(
    buildDataSourceOptions(url, {
      migrationsRun: false,
      entities: extension.entities,
      migrations: extension.migrations,
    }),
  );
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}
