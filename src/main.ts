#!/usr/bin/env node
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigValidationError } from './core/config/config-validation.error.js';
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
