import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { loadConfig } from './core/config/config.loader.js';
import { ConfigModule } from './core/config/config.module.js';
import { GatewayConfig } from './core/config/gateway-config.js';
import { DatabaseModule } from './core/database/database.module.js';
import { DATABASE_EXTENSION_OPTIONS } from './core/database/database-extension.js';
import { AuditModule } from './core/audit/audit.module.js';
import { AuthModule } from './core/auth/auth.module.js';
import { AUTH_MODULE_OPTIONS } from './core/auth/auth-module.options.js';
import { RATE_LIMIT_MODULE_OPTIONS } from './core/rate-limit/rate-limit.options.js';
import { LOGGING_MODULE_OPTIONS } from './core/logging/logging-module.options.js';
import { RateLimitModule } from './core/rate-limit/rate-limit.module.js';
import { HealthModule } from './core/health/health.module.js';
import { LoggingModule } from './core/logging/logging.module.js';
import { TRACING_MODULE_OPTIONS } from './core/tracing/tracing-module.options.js';
import { TracingModule } from './core/tracing/tracing.module.js';
import { HttpExceptionFilter } from './core/rpc/http-exception.filter.js';
import { RpcModule } from './core/rpc/rpc.module.js';
import { WsModule } from './core/ws/ws.module.js';
import { AgentsModule } from './agents/agents.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { AuditTrailModule } from './audit/audit-trail.module.js';
import { OpenAiModule } from './openai/openai.module.js';
import { ToolsModule } from './tools/tools.module.js';
import { McpServerModule } from './mcp-server/mcp-server.module.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import {
  GATEWAY_MODULE_OPTIONS,
  type DashboardOption,
  type GatewayModuleAsyncOptions,
  type GatewayModuleOptions,
} from './gateway-module.options.js';

/** Turns module options into the validated config (a loaded GatewayConfig is taken as it is). */
export function resolveGatewayConfig(options: GatewayModuleOptions): GatewayConfig {
  if (options.config instanceof GatewayConfig) return options.config;
  return loadConfig({
    env: options.env,
    ignoreFile: options.configFile === false,
    overrides: options.config,
  });
}

const configProvider: Provider = {
  provide: GatewayConfig,
  inject: [GATEWAY_MODULE_OPTIONS],
  useFactory: resolveGatewayConfig,
};

/**
 * The gateway as a Nest module: `main.ts` serves it, and another Nest app can import it.
 * Features are modules of their own; extension modules are discovered the same way.
 */
@Module({})
export class GatewayModule {
  static forRoot(options: GatewayModuleOptions = {}): DynamicModule {
    return GatewayModule.build(
      [{ provide: GATEWAY_MODULE_OPTIONS, useValue: options }],
      options.imports,
      [],
      options.dashboard,
    );
  }

  static forRootAsync(options: GatewayModuleAsyncOptions): DynamicModule {
    return GatewayModule.build(
      [
        {
          provide: GATEWAY_MODULE_OPTIONS,
          inject: options.inject ?? [],
          useFactory: options.useFactory,
        },
      ],
      [],
      options.imports,
      options.dashboard,
    );
  }

  private static build(
    optionsProviders: Provider[],
    extensions: GatewayModuleOptions['imports'] = [],
    optionImports: GatewayModuleAsyncOptions['imports'] = [],
    dashboard: DashboardOption = true,
  ): DynamicModule {
    const configModule: DynamicModule = {
      module: ConfigModule,
      global: true,
      imports: optionImports,
      providers: [
        ...optionsProviders,
        configProvider,
        {
          provide: AUTH_MODULE_OPTIONS,
          inject: [GATEWAY_MODULE_OPTIONS],
          useFactory: (options: GatewayModuleOptions) => options.auth ?? {},
        },
        {
          provide: RATE_LIMIT_MODULE_OPTIONS,
          inject: [GATEWAY_MODULE_OPTIONS],
          useFactory: (options: GatewayModuleOptions) => options.rateLimit ?? {},
        },
        {
          provide: DATABASE_EXTENSION_OPTIONS,
          inject: [GATEWAY_MODULE_OPTIONS],
          useFactory: (options: GatewayModuleOptions) => options.database ?? {},
        },
        {
          provide: LOGGING_MODULE_OPTIONS,
          inject: [GATEWAY_MODULE_OPTIONS],
          useFactory: (options: GatewayModuleOptions) => options.logging ?? {},
        },
        {
          // OTEL_* come from the same env as OPENCLAW_* (a test passes its own).
          provide: TRACING_MODULE_OPTIONS,
          inject: [GATEWAY_MODULE_OPTIONS],
          useFactory: (options: GatewayModuleOptions) => ({ env: options.env ?? process.env }),
        },
      ],
      exports: [
        GatewayConfig,
        GATEWAY_MODULE_OPTIONS,
        AUTH_MODULE_OPTIONS,
        RATE_LIMIT_MODULE_OPTIONS,
        LOGGING_MODULE_OPTIONS,
        DATABASE_EXTENSION_OPTIONS,
        TRACING_MODULE_OPTIONS,
      ],
    };
    return {
      module: GatewayModule,
      imports: [
        configModule,
        TracingModule,
        LoggingModule,
        DatabaseModule.forGateway(),
        RpcModule,
        WsModule,
        HealthModule,
        AuditModule,
        // Order matters: authentication runs first so that limits count per verified subject.
        AuthModule,
        RateLimitModule,
        AgentsModule,
        ToolsModule,
        SessionsModule,
        AuditTrailModule,
        McpServerModule,
        OpenAiModule,
        ...(dashboard === false
          ? []
          : [DashboardModule.forRoot(dashboard === true ? undefined : dashboard.rootPath)]),
        ...extensions,
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
      exports: [RpcModule, WsModule, HealthModule],
    };
  }
}
