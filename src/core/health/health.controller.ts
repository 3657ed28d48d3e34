import { Controller, Get, Logger, Res } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import { createRequire } from 'node:module';
import { DataSource } from 'typeorm';
import { Public } from '../auth/public.decorator.js';
import { RateLimitStatsService } from '../rate-limit/rate-limit-stats.service.js';
import { RpcStatsService } from '../rpc/rpc-stats.service.js';
import { WsConnectionRegistry } from '../ws/ws-connection.registry.js';
import { LifecycleService } from './lifecycle.service.js';

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

@Controller()
export class HealthController {
  private readonly logger = new Logger('Health');

  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly stats: RpcStatsService,
    private readonly connections: WsConnectionRegistry,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Liveness is answering at all; readiness is the database reachable and not draining. */
  @Public()
  @Get('health')
  async health(@Res() reply: FastifyReply): Promise<void> {
    const database = await this.checkDatabase();
    const ready = database !== 'down' && !this.lifecycle.draining;
    await reply.status(ready ? 200 : 503).send({
      status: this.lifecycle.draining ? 'draining' : ready ? 'ok' : 'unavailable',
      live: true,
      ready,
      checks: { database },
    });
  }

  @Get('status')
  status(): Record<string, unknown> {
    return {
      version,
      instanceId: this.lifecycle.instanceId,
      startedAt: new Date(this.lifecycle.startedAt).toISOString(),
      uptimeSeconds: Math.round((Date.now() - this.lifecycle.startedAt) / 1000),
      draining: this.lifecycle.draining,
      connections: { websocket: this.connections.size },
      calls: { inFlight: this.stats.callsInFlight, byMethod: this.stats.snapshot() },
      rateLimit: this.rateLimitStats()?.snapshot(),
    };
  }

  private rateLimitStats(): RateLimitStatsService | undefined {
    try {
      return this.moduleRef.get(RateLimitStatsService, { strict: false });
    } catch {
      return undefined;
    }
  }

  private async checkDatabase(): Promise<'up' | 'down' | 'none'> {
    let dataSource: DataSource;
    try {
      dataSource = this.moduleRef.get(DataSource, { strict: false });
    } catch {
      return 'none';
    }
    try {
      await dataSource.query('SELECT 1');
      return 'up';
    } catch (err) {
      this.logger.warn({ err }, 'database check failed');
      return 'down';
    }
  }
}
