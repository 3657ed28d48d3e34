import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ModuleMetadata } from '@nestjs/common';
import type { GatewayConfigInput } from './core/config/config.loader.js';
import type { GatewayModuleOptions } from './gateway-module.options.js';
import { createGatewayApp } from './gateway.factory.js';
import { installSignalHandlers, listenGateway } from './serve.js';

/**
 * Builds a gateway in code, for embedders who want no CLI:
 * `await new GatewayBuilder().withConfig({...}).serve('127.0.0.1:18789')`.
 */
export class GatewayBuilder {
  private readonly options: GatewayModuleOptions & { config: GatewayConfigInput } = { config: {} };
  private readonly extensions: NonNullable<ModuleMetadata['imports']> = [];

  /** Settings in openclaw.json's shape; later calls merge over earlier ones. */
  withConfig(config: GatewayConfigInput): this {
    for (const [key, value] of Object.entries(config)) {
      const current = (this.options.config as Record<string, unknown>)[key];
      (this.options.config as Record<string, unknown>)[key] =
        current &&
        typeof current === 'object' &&
        !Array.isArray(current) &&
        typeof value === 'object'
          ? { ...current, ...value }
          : value;
    }
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

  /** Adds a Nest module whose providers add methods, agents or tools. */
  withModule(module: NonNullable<ModuleMetadata['imports']>[number]): this {
    this.extensions.push(module);
    return this;
  }

  /** Reads no openclaw.json and no OPENCLAW_* env: the gateway is what the code says. */
  isolated(): this {
    this.options.configFile = false;
    this.options.env = {};
    return this;
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
