import { Module } from '@nestjs/common';
import { RpcModule } from '../rpc/rpc.module.js';
import { WsModule } from '../ws/ws.module.js';
import { HealthController } from './health.controller.js';
import { LifecycleService } from './lifecycle.service.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

@Module({
  imports: [RpcModule, WsModule],
  controllers: [HealthController, MetricsController],
  providers: [LifecycleService, MetricsService],
  exports: [LifecycleService],
})
export class HealthModule {}
