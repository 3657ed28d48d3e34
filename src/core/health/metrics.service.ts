import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { RpcStatsService } from '../rpc/rpc-stats.service.js';
import { WsConnectionRegistry } from '../ws/ws-connection.registry.js';
import { TOKEN_USAGE_REPORT, type TokenUsageReport } from './token-usage.report.js';

/**
 * Prometheus metrics, read from the counters the gateway keeps anyway: nothing is added to the
 * hot path, values are copied at scrape time. Each app has its own registry (tests boot many).
 * prom-client and its default collectors start on the first scrape: a gateway nobody scrapes
 * carries neither the library nor its GC and event-loop observers. Counters of the gateway's own
 * are whole from the first scrape; the process's GC counters count from it.
 */
@Injectable()
export class MetricsService {
  private registry?: Promise<Registry>;

  constructor(
    private readonly stats: RpcStatsService,
    private readonly connections: WsConnectionRegistry,
    @Optional() @Inject(TOKEN_USAGE_REPORT) private readonly usage?: TokenUsageReport,
  ) {}

  async render(): Promise<string> {
    this.registry ??= this.createRegistry();
    return (await this.registry).metrics();
  }

  private async createRegistry(): Promise<Registry> {
    const { Counter, Gauge, Registry, collectDefaultMetrics } = await import('prom-client');
    const { stats, connections, usage } = this;
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'openclaw_' });
    new Counter({
      name: 'openclaw_rpc_calls_total',
      help: 'JSON-RPC calls answered, by method and outcome',
      labelNames: ['method', 'outcome'],
      registers: [registry],
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
      registers: [registry],
      collect() {
        this.set(stats.callsInFlight);
      },
    });
    new Gauge({
      name: 'openclaw_ws_connections',
      help: 'Open WebSocket connections',
      registers: [registry],
      collect() {
        this.set(connections.size);
      },
    });
    if (usage) {
      // Labels stay bounded: agents are configured, subjects past usage.topSubjects are "other".
      new Counter({
        name: 'openclaw_agent_tokens_total',
        help: 'Tokens used by agent turns answered by this instance, by agent and kind',
        labelNames: ['agent', 'kind'],
        registers: [registry],
        collect() {
          this.reset();
          for (const c of usage.counters().agents) {
            this.inc({ agent: c.label, kind: 'input' }, c.inputTokens);
            this.inc({ agent: c.label, kind: 'output' }, c.outputTokens);
          }
        },
      });
      new Counter({
        name: 'openclaw_subject_tokens_total',
        help: 'Tokens used by turns answered by this instance, by subject (the first usage.topSubjects; the rest "other") and kind',
        labelNames: ['subject', 'kind'],
        registers: [registry],
        collect() {
          this.reset();
          for (const c of usage.counters().subjects) {
            this.inc({ subject: c.label, kind: 'input' }, c.inputTokens);
            this.inc({ subject: c.label, kind: 'output' }, c.outputTokens);
          }
        },
      });
    }
    return registry;
  }
}
