#!/usr/bin/env node
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { enableBootCompileCache } from './boot-compile-cache.js';
import { holdYoungGenerationDuringBoot } from './boot-heap.js';
import { ConfigValidationError } from './core/config/config-validation.error.js';
import type { GatewayConfig } from './core/config/gateway-config.js';

const USAGE = `Usage: openclaw-gateway [command] [options]

Commands:
  serve                                        serve the gateway (the default)
  token --sub NAME --scope "A B" [--ttl 1h]    print an access token signed with the configured secret
  clients create --name NAME --scope "A B"     create an OAuth client (its secret is shown once)
  clients list                                 list OAuth clients
  clients revoke --id CLIENT_ID                revoke a client and its refresh tokens
  migrate                                      apply pending database migrations and exit
  audit verify [--session KEY]                 check the hash chains (exit 1 when one is broken)
  audit export [--since T] [--session KEY]     print the chains as JSON Lines, for offline checks

Configuration: defaults < openclaw.json (or OPENCLAW_CONFIG) < OPENCLAW_* environment.`;

/**
 * The merged configuration. Its loader (class-transformer, class-validator's decorators) is
 * imported here rather than at the top so that `serve` loads it with its compile cache on.
 */
async function loadConfig(): Promise<GatewayConfig> {
  const { loadConfig: load } = await import('./core/config/config.loader.js');
  return load();
}

/** A mistake in the command line: printed with the usage, exit code 2. */
class UsageError extends Error {}

function required(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || !value.trim()) throw new UsageError(`--${name} is required`);
  return value;
}

// Each command imports what it runs: `token` or `migrate` never load Nest, Fastify or the app.
async function serve(): Promise<void> {
  const releaseYoungGeneration = holdYoungGenerationDuringBoot();
  // Before the first import of Nest, TypeORM or Fastify: their modules compile from the cache.
  const compileCache = enableBootCompileCache();
  const { createGatewayApp } = await import('./gateway.factory.js');
  const { announceFirstRun, installSignalHandlers, listenGateway } = await import('./serve.js');
  const app = await createGatewayApp();
  await listenGateway(app);
  compileCache?.persist();
  releaseYoungGeneration();
  installSignalHandlers(app);
  await announceFirstRun(app);
}

// The built-in app's migrations; an embedder with extension tables runs GatewayBuilder.migrate().
async function migrate(): Promise<number> {
  const { runPendingMigrations } = await import('./core/database/database.migrator.js');
  const applied = await runPendingMigrations((await loadConfig()).database.url);
  console.log(
    applied.length
      ? `Applied ${applied.length} migration(s): ${applied.join(', ')}`
      : 'The database is up to date.',
  );
  return 0;
}

async function clients(
  action: string | undefined,
  values: Record<string, unknown>,
): Promise<number> {
  const config = await loadConfig();
  const { createClient, listClients, revokeClient } = await import('./core/auth/auth.cli.js');
  switch (action) {
    case 'create': {
      const created = await createClient(config, {
        name: required(values, 'name'),
        scopes: required(values, 'scope'),
      });
      console.log(`client_id:     ${created.clientId}`);
      console.log(`client_secret: ${created.clientSecret}`);
      console.log('The secret is shown only now; the gateway keeps only a slow hash of it.');
      return 0;
    }
    case 'list':
      console.log(JSON.stringify(await listClients(config), null, 2));
      return 0;
    case 'revoke':
      if (await revokeClient(config, required(values, 'id'))) {
        console.log('Revoked.');
        return 0;
      }
      console.error('No active client has that id.');
      return 1;
    default:
      throw new UsageError(`clients needs create, list or revoke`);
  }
}

async function audit(action: string | undefined, values: Record<string, unknown>): Promise<number> {
  const config = await loadConfig();
  const { verifyAudit, exportAuditLines } = await import('./audit/audit.cli.js');
  const sessionKey = typeof values.session === 'string' ? values.session : undefined;
  switch (action) {
    case 'verify':
      return verifyAudit(config, { sessionKey });
    case 'export': {
      let since: string | undefined;
      if (typeof values.since === 'string') {
        const time = new Date(values.since);
        if (Number.isNaN(time.getTime())) throw new UsageError('--since must be an ISO 8601 time');
        since = time.toISOString();
      }
      const code = await exportAuditLines(config, { since, sessionKey }, (line) =>
        process.stdout.write(`${line}\n`)
          ? undefined
          : new Promise<void>((resolve) => process.stdout.once('drain', () => resolve())),
      );
      // Everything written out before the process exits.
      await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
      return code;
    }
    default:
      throw new UsageError(`audit needs verify or export`);
  }
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      sub: { type: 'string' },
      scope: { type: 'string' },
      ttl: { type: 'string' },
      name: { type: 'string' },
      id: { type: 'string' },
      session: { type: 'string' },
      since: { type: 'string' },
    },
  });
  const [command = 'serve', action] = positionals;
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
    case 'token': {
      const config = await loadConfig();
      const { mintToken } = await import('./core/auth/auth.cli.js');
      const options = {
        sub: required(values, 'sub'),
        scope: required(values, 'scope'),
        ttl: values.ttl,
      };
      // mintToken's refusals name the flag at fault: they are usage errors.
      const token = await mintToken(config, options).catch((error: Error) => {
        throw error.message.startsWith('--') ? new UsageError(error.message) : error;
      });
      console.log(token);
      return 0;
    }
    case 'clients':
      return clients(action, values);
    case 'audit':
      return audit(action, values);
    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    // Operator mistakes (configuration, command line) say what is wrong, without a stack.
    if (error instanceof ConfigValidationError) {
      console.error(error.message);
      process.exit(78);
    }
    const code = (error as { code?: string }).code;
    if (
      error instanceof UsageError ||
      (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
    ) {
      console.error(`${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
