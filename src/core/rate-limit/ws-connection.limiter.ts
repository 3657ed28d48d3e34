import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { GatewayConfig } from '../config/gateway-config.js';
import type { WsUpgradeAdmission, WsUpgradeLimiter } from '../ws/ws-upgrade-limiter.js';
import { clientIp, ipKey } from './client-ip.js';
import { RateLimitStatsService } from './rate-limit-stats.service.js';
import {
  RATE_LIMIT_MODULE_OPTIONS,
  WS_CONNECT_LIMIT,
  type RateLimitModuleOptions,
} from './rate-limit.options.js';
import {
  RATE_LIMIT_STORE,
  RateLimitStoreUnavailableError,
  type RateLimitStore,
} from './rate-limit.store.js';

/**
 * New WebSocket connections per client IP, counted at the upgrade in the same store as calls, so
 * reconnecting neither resets a limit nor costs the gateway more than a refused handshake.
 */
@Injectable()
export class WsConnectionLimiter implements WsUpgradeLimiter {
  private readonly logger = new Logger('RateLimit');
  private readonly limit: number;
  private readonly ttl: number;

  constructor(
    @Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore,
    private readonly stats: RateLimitStatsService,
    private readonly config: GatewayConfig,
    @Inject(RATE_LIMIT_MODULE_OPTIONS) options: RateLimitModuleOptions,
  ) {
    this.limit = options.wsConnections?.limit ?? config.rateLimit.client.limit;
    this.ttl = options.wsConnections?.ttl ?? config.rateLimit.client.ttl;
  }

  async admit(request: IncomingMessage): Promise<WsUpgradeAdmission> {
    const ip = clientIp(
      request.socket.remoteAddress,
      request.headers,
      this.config.gateway.trustedProxies,
    );
    let retryAfterMs: number;
    try {
      const record = await this.store.increment(
        `${WS_CONNECT_LIMIT}:ip:${ipKey(ip)}`,
        this.ttl,
        this.limit,
        this.ttl,
        WS_CONNECT_LIMIT,
      );
      if (!record.isBlocked) return { ok: true };
      retryAfterMs = Math.max(1, record.timeToExpireMs);
    } catch (err) {
      if (!(err instanceof RateLimitStoreUnavailableError)) throw err;
      this.stats.storeFailed();
      if (this.config.rateLimit.onStoreFailure === 'open') return { ok: true };
      retryAfterMs = 1000;
    }
    this.stats.rejected(WS_CONNECT_LIMIT);
    this.logger.debug({ ip }, 'WebSocket connection refused: rate limit');
    return {
      ok: false,
      status: 429,
      message: 'Too Many Requests',
      headers: { 'Retry-After': String(Math.ceil(retryAfterMs / 1000)) },
    };
  }
}
