import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { GatewayConfig } from '../config/gateway-config.js';
import { DATABASE_EXTENSION_OPTIONS, type DatabaseExtensionOptions } from './database-extension.js';
import { buildDataSourceOptions } from './database-url.js';

export interface DatabaseModuleOptions {
  /** `database.url`: `sqlite:<path>`, `sqlite::memory:` or `postgres://…`. */
  url: string;
  /** Apply pending migrations at boot (default true). */
  migrationsRun?: boolean;
  logging?: boolean;
}

/** The application's one TypeORM data source; importers get `DataSource` and repositories. */
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    const typeorm = TypeOrmModule.forRoot({
      ...buildDataSourceOptions(options.url, {
        migrationsRun: options.migrationsRun,
        logging: options.logging,
      }),
      autoLoadEntities: true,
      // A wrong URL or a down database should stop the boot at once, not retry for 27 s.
      retryAttempts: 0,
    });
    return {
      module: DatabaseModule,
      imports: [typeorm],
      exports: [typeorm],
    };
  }

  /** The gateway's data source, from the validated config, with extension modules' tables. */
  static forGateway(): DynamicModule {
    const typeorm = TypeOrmModule.forRootAsync({
      inject: [GatewayConfig, DATABASE_EXTENSION_OPTIONS],
      useFactory: (config: GatewayConfig, extension: DatabaseExtensionOptions) => ({
        ...buildDataSourceOptions(config.database.url, {
          migrationsRun: config.database.migrationsRun,
          entities: extension.entities,
          migrations: extension.migrations,
        }),
        autoLoadEntities: true,
        retryAttempts: 0,
      }),
    });
    return { module: DatabaseModule, imports: [typeorm], exports: [typeorm] };
  }
}
