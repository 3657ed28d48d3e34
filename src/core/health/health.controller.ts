import { Controller, Get, Inject, Logger, Optional, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { METRICS_READ_SCOPE } from '../identity/caller.js';
import { Public } from '../identity/public.decorator.js';
import { RequireScope } from '../identity/route-scope.decorator.js';
import { EVENT_BUS, type EventBus } from '../events/event-bus.js';
import { RateLimitStatsService } from '../rate-limit/rate-limit-stats.service.js';
import { RpcStatsService } from '../rpc/rpc-stats.service.js';
import { WsConnectionRegistry } from '../ws/ws-connection.registry.js';
import { LifecycleService } from './lifecycle.service.js';
import { TOKEN_USAGE_REPORT, type TokenUsageReport } from './token-usage.report.js';
import { PACKAGE_VERSION as version } from '../package-info.js';

type Check = 'up' | 'down' | 'none';

interface Readiness {
  ready: boolean;
  checks: { database: Check; bus: Check; rateLimitStore: Check };
}

/** A bus between instances reports whether it is connected; the in-process one has no such state. */
function busCheck(bus: EventBus | undefined): Check {
  const connected = (bus as { connected?: unknown } | undefined)?.connected;
  return typeof connected === 'boolean' ? (connected ? 'up' : 'down') : 'none';
}

@Controller()
export class HealthController {
  private readonly logger = new Logger('Health');

  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly stats: RpcStatsService,
    private readonly connections: WsConnectionRegistry,
    @Optional() private readonly dataSource?: DataSource,
    @Optional() private readonly rateLimits?: RateLimitStatsService,
    @Optional() @Inject(EVENT_BUS) private readonly bus?: EventBus,
    @Optional() @Inject(TOKEN_USAGE_REPORT) private readonly usage?: TokenUsageReport,
  ) {}

  private async readiness(): Promise<Readiness> {
    const store = this.rateLimits?.snapshot().store;
    const checks: Readiness['checks'] = {
      database: await this.checkDatabase(),
      bus: busCheck(this.bus),
      rateLimitStore:
        store === undefined || store.store === 'memory' ? 'none' : store.available ? 'up' : 'down',
    };
    const ready = !this.lifecycle.draining && Object.values(checks).every((c) => c !== 'down');
    return { ready, checks };
  }

  /**
   * Liveness and readiness together, as before the split (kept for existing monitors): 200 when
   * ready, 503 when a dependency is down or the process is draining.
   */
  @Public()
  @Get('health')
  async health(@Res() reply: FastifyReply): Promise<void> {
    const { ready, checks } = await this.readiness();
    await reply.status(ready ? 200 : 503).send({
      status: this.lifecycle.draining ? 'draining' : ready ? 'ok' : 'unavailable',
      live: true,
      ready,
      checks,
    });
  }

  /**
   * Liveness: the process answers. Nothing outside it is checked, so an orchestrator never
   * restarts every instance because PostgreSQL or Redis is down; readiness covers those.
   */
  @Public()
  @Get('health/live')
  live(): { status: 'ok'; live: true } {
    return { status: 'ok', live: true };
  }

  /**
   * Readiness: the database, the bus between instances and the shared rate-limit store answer,
   * and the process is not draining. A load balancer sends new work only to ready instances.
   */
  @Public()
  @Get('health/ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const { ready, checks } = await this.readiness();
    await reply.status(ready ? 200 : 503).send({
      status: this.lifecycle.draining ? 'draining' : ready ? 'ready' : 'unavailable',
      ready,
      checks,
    });
  }

  /** Operational detail (limits, connections, calls): for admins and monitoring tokens only. */
  @RequireScope(METRICS_READ_SCOPE)
  @Get('status')
  async status(): Promise<Record<string, unknown>> {
    return {
      version,
      instanceId: this.lifecycle.instanceId,
      startedAt: new Date(this.lifecycle.startedAt).toISOString(),
      uptimeSeconds: Math.round((Date.now() - this.lifecycle.startedAt) / 1000),
      draining: this.lifecycle.draining,
      connections: { websocket: this.connections.size },
      calls: { inFlight: this.stats.callsInFlight, byMethod: this.stats.snapshot() },
      rateLimit: this.rateLimits?.snapshot(),
      usage: await this.usage?.status(),
    };
  }

  private async checkDatabase(): Promise<Check> {
    if (!this.dataSource) return 'none';
    try {
      await this.dataSource.query('SELECT 1');
      return 'up';
    } catch (err) {
      this.logger.warn({ err }, 'database check failed');
      return 'down';
    }
  }
}
