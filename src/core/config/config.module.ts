import { Global, Module, type DynamicModule } from '@nestjs/common';
import { GatewayConfig } from './gateway-config.js';

/** Makes the validated GatewayConfig injectable everywhere (the class is its own token). */
@Global()
@Module({})
export class ConfigModule {
  static forConfig(config: GatewayConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: GatewayConfig, useValue: config }],
      exports: [GatewayConfig],
    };
  }
}
