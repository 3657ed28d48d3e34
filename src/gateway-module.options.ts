import type { ModuleMetadata } from '@nestjs/common';
import type { GatewayConfigInput } from './core/config/config.loader.js';
import type { GatewayConfig } from './core/config/gateway-config.js';
import type { AuthModuleOptions } from './core/auth/auth-module.options.js';
import type { RateLimitModuleOptions } from './core/rate-limit/rate-limit.options.js';
import type { LoggingModuleOptions } from './core/logging/logging-module.options.js';
import type { DatabaseExtensionOptions } from './core/database/database-extension.js';

/** Options of GatewayModule.forRoot and of GatewayBuilder: the library's configuration surface. */
export interface GatewayModuleOptions {
  /** Settings in openclaw.json's shape (above the file, below OPENCLAW_* env), or a loaded config. */
  config?: GatewayConfigInput | GatewayConfig;
  /** Environment to read OPENCLAW_* from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Read ./openclaw.json or OPENCLAW_CONFIG (default: true). */
  configFile?: boolean;
  /** Tuning of authentication (JWKS caching). */
  auth?: AuthModuleOptions;
  /** Tuning of rate limiting (key bound, session-limited methods, WS connection limit). */
  rateLimit?: RateLimitModuleOptions;
  /**
   * Entities and migrations of extension modules: applied at boot with the built-in ones (when
   * `database.migrationsRun`), or by GatewayBuilder.migrate().
   */
  database?: DatabaseExtensionOptions;
  /** Where logs go (default: stdout, JSON lines). */
  logging?: LoggingModuleOptions;
  /** Nest modules that extend the gateway (their @RpcMethod providers are discovered). */
  imports?: ModuleMetadata['imports'];
  /**
   * Serve the dashboard at `/` with its history-mode catch-all (default: true). A host app that
   * serves its own pages turns it off, or passes the built bundle's directory.
   */
  dashboard?: DashboardOption;
}

export type DashboardOption = boolean | { rootPath: string };

export const GATEWAY_MODULE_OPTIONS = Symbol('openclaw:gateway-module-options');

export interface GatewayModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  /** As in GatewayModuleOptions; given here because modules are chosen before the factory runs. */
  dashboard?: DashboardOption;
  inject?: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
  useFactory: (...args: never[]) => GatewayModuleOptions | Promise<GatewayModuleOptions>;
}
