import { Module } from '@nestjs/common';
import { LiveSeriesModule } from '../live-series/live-series.module.js';
import { RpcModule } from '../rpc/rpc.module.js';
import { WsModule } from '../ws/ws.module.js';
import { HealthController } from './health.controller.js';
import { LifecycleService } from './lifecycle.service.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';
import { StatusSeriesController } from './status-series.controller.js';

@Module({
  imports: [RpcModule, WsModule, LiveSeriesModule],
  controllers: [HealthController, MetricsController, StatusSeriesController],
  providers: [LifecycleService, MetricsService],
  exports: [LifecycleService],
})
export class HealthModule {}
