import { Controller, Get, Header } from '@nestjs/common';
import { METRICS_READ_SCOPE } from '../identity/caller.js';
import { RequireScope } from '../identity/route-scope.decorator.js';
import { MetricsService } from './metrics.service.js';

/** Prometheus exposition of the gateway's metrics, for admins and monitoring tokens only. */
@Controller()
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @RequireScope(METRICS_READ_SCOPE)
  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.render();
  }
}
