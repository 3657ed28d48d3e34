import type { EntitySchema, MigrationInterface } from 'typeorm';

export type EntityClass = (new (...args: never[]) => object) | EntitySchema;
export type MigrationClass = new () => MigrationInterface;

/**
 * Tables an extension module brings: its entities and the migrations that create them. They join
 * the built-in ones in the one data source, run at boot (database.migrationsRun) and by
 * GatewayBuilder.migrate(). Migration class names end in a timestamp, as TypeORM requires.
 */
export interface DatabaseExtensionOptions {
  /** Entities not registered through TypeOrmModule.forFeature (which needs nothing here). */
  entities?: EntityClass[];
  migrations?: MigrationClass[];
}

export const DATABASE_EXTENSION_OPTIONS = Symbol('openclaw:database-extension-options');
