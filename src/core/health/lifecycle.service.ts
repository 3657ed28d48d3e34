import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { GatewayConfig } from '../config/gateway-config.js';

/** Process-wide facts: when it started, who it is, and whether it is draining for shutdown. */
@Injectable()
export class LifecycleService {
  readonly startedAt = Date.now();
  readonly instanceId: string;
  private drainingSince?: number;

  constructor(config: GatewayConfig) {
    this.instanceId = config.instanceId ?? randomUUID();
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  startDraining(): void {
    this.drainingSince ??= Date.now();
  }
}
