import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { RpcStatsService } from '../rpc/rpc-stats.service.js';
import { WsConnectionRegistry } from '../ws/ws-connection.registry.js';

/**
 * Prometheus metrics, read from the counters the gateway keeps anyway: nothing is added to the
 * hot path, values are copied at scrape time. Each app has its own registry (tests boot many).
 */
@Injectable()
export class MetricsService {
  private readonly registry = new Registry();

  constructor(stats: RpcStatsService, connections: WsConnectionRegistry) {
    collectDefaultMetrics({ register: this.registry, prefix: 'openclaw_' });
    new Counter({
      name: 'openclaw_rpc_calls_total',
      help: 'JSON-RPC calls answered, by method and outcome',
      labelNames: ['method', 'outcome'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [method, { calls: total, failures }] of Object.entries(stats.snapshot())) {
          this.inc({ method, outcome: 'ok' }, total - failures);
          this.inc({ method, outcome: 'error' }, failures);
        }
      },
    });
    new Gauge({
      name: 'openclaw_rpc_calls_in_flight',
      help: 'JSON-RPC calls running now',
      registers: [this.registry],
      collect() {
        this.set(stats.callsInFlight);
      },
    });
    new Gauge({
      name: 'openclaw_ws_connections',
      help: 'Open WebSocket connections',
      registers: [this.registry],
      collect() {
        this.set(connections.size);
      },
    });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
