import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ModuleMetadata } from '@nestjs/common';
import { mergeConfig, type GatewayConfigInput } from './core/config/config.loader.js';
import type { DatabaseExtensionOptions } from './core/database/database-extension.js';
import { runPendingMigrations } from './core/database/database.migrator.js';
import type { GatewayModuleOptions } from './gateway-module.options.js';
import { createGatewayApp } from './gateway.factory.js';
import { resolveGatewayConfig } from './gateway.module.js';
import { installSignalHandlers, listenGateway } from './serve.js';

/**
 * Builds a gateway in code, for embedders who want no CLI:
 * `await new GatewayBuilder().withConfig({...}).serve('127.0.0.1:18789')`.
 */
export class GatewayBuilder {
  private readonly options: GatewayModuleOptions & { config: GatewayConfigInput } = { config: {} };
  private readonly extensions: NonNullable<ModuleMetadata['imports']> = [];

  /**
   * Settings in openclaw.json's shape; later calls merge over earlier ones at every depth (a
   * second call setting `auth.jwt.issuer` keeps `auth.jwt.secret`). Arrays are replaced whole.
   */
  withConfig(config: GatewayConfigInput): this {
    this.options.config = mergeConfig(this.options.config, config);
    return this;
  }

  /** Where sessions are stored: a `sqlite:` or `postgres://` URL. */
  withEventStore(databaseUrl: string): this {
    return this.withConfig({ database: { url: databaseUrl } });
  }

  /** Per-client and per-session limits. */
  withRateLimit(limits: NonNullable<GatewayConfigInput['rateLimit']>): this {
    return this.withConfig({ rateLimit: limits });
  }

  /**
   * Adds a Nest module whose providers add methods, agents or tools, with the tables it brings
   * (its entities and migrations), if any.
   */
  withModule(
    module: NonNullable<ModuleMetadata['imports']>[number],
    database?: DatabaseExtensionOptions,
  ): this {
    this.extensions.push(module);
    if (database) this.withDatabase(database);
    return this;
  }

  /** Entities and migrations of extension modules, added to the built-in ones. */
  withDatabase(database: DatabaseExtensionOptions): this {
    const current = this.options.database ?? {};
    this.options.database = {
      entities: [...(current.entities ?? []), ...(database.entities ?? [])],
      migrations: [...(current.migrations ?? []), ...(database.migrations ?? [])],
    };
    return this;
  }

  /** Reads no openclaw.json and no OPENCLAW_* env: the gateway is what the code says. */
  isolated(): this {
    this.options.configFile = false;
    this.options.env = {};
    return this;
  }

  /**
   * Applies the pending migrations, built-in and extensions', to the configured database, without
   * building the app; returns the names applied. For deployments that set database.migrationsRun
   * to false and migrate as a release step.
   */
  async migrate(): Promise<string[]> {
    const config = resolveGatewayConfig(this.options);
    return runPendingMigrations(config.database.url, this.options.database);
  }

  async build(): Promise<NestFastifyApplication> {
    return createGatewayApp({ ...this.options, imports: this.extensions });
  }

  /** Builds, listens on `host:port` (default from config) and shuts down cleanly on signals. */
  async serve(address?: string): Promise<NestFastifyApplication> {
    if (address) {
      const match = /^(.*):(\d+)$/.exec(address);
      if (!match) throw new Error(`serve(): address must be host:port, got "${address}"`);
      this.withConfig({
        gateway: { host: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2]) },
      });
    }
    const app = await this.build();
    await listenGateway(app);
    installSignalHandlers(app);
    return app;
  }
}
