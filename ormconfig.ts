import { DataSource } from 'typeorm';

import { buildDataSourceOptions } from './src/core/database/database-url.js';

/** The data source the TypeORM CLI uses (`typeorm migration:run -d dist/ormconfig.js`, …). */
export default new DataSource(
  buildDataSourceOptions(process.env.OPENCLAW_DATABASE_URL ?? 'sqlite:./data/openclaw.db', {
    migrationsRun: false,
  }),
);
