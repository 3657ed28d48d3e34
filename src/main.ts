#!/usr/bin/env node
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigValidationError } from './core/config/config-validation.error.js';
import { DataSource } from 'typeorm';
import { loadConfig } from './core/config/config.loader.js';
import { buildDataSourceOptions } from './core/database/database-url.js';
import { createGatewayApp } from './gateway.factory.js';
import { installSignalHandlers, listenGateway } from './serve.js';

const USAGE = `Usage: openclaw-gateway [command]

Commands:
  serve      serve the gateway (the default)
  migrate    run pending database migrations and exit

Configuration: defaults < openclaw.json (or OPENCLAW_CONFIG) < OPENCLAW_* environment.`;

async function serve(): Promise<void> {
  const app = await createGatewayApp();
  await listenGateway(app);
  installSignalHandlers(app);
}

/** Applies pending migrations to the configured database and exits. */
async function migrate(): Promise<number> {
  const config = loadConfig();
  const dataSource = new DataSource(
    buildDataSourceOptions(config.database.url, { migrationsRun: false }),
  );
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    console.log(
      applied.length
        ? `Applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}`
        : 'The database is up to date.',
    );
    return 0;
  } finally {
    await dataSource.destroy();
  }
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { help: { type: 'boolean', short: 'h' } },
  });
  const [command = 'serve'] = positionals;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  switch (command) {
    case 'serve':
      await serve();
      return -1;
    case 'migrate':
      return migrate();
    default:
      console.error(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    // Configuration mistakes are the operator's to fix: say what is wrong, without a stack.
    if (error instanceof ConfigValidationError) {
      console.error(error.message);
      process.exit(78);
    }
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
