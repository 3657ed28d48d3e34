import { Module, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule, ThrottlerStorage } from '@nestjs/throttler';
import { GatewayConfig } from '../config/gateway-config.js';
import { WS_UPGRADE_LIMITER } from '../ws/ws-upgrade-limiter.js';
import { GatewayThrottlerGuard } from './gateway-throttler.guard.js';
import { MemoryRateLimitStore } from './memory-rate-limit.store.js';
import { RateLimitStatsService } from './rate-limit-stats.service.js';
import {
  CLIENT_THROTTLER,
  RATE_LIMIT_MODULE_OPTIONS,
  SESSION_THROTTLER,
  type RateLimitModuleOptions,
} from './rate-limit.options.js';
import { RATE_LIMIT_STORE, type RateLimitStore } from './rate-limit.store.js';
import { RedisRateLimitStore } from './redis-rate-limit.store.js';
import { WsConnectionLimiter } from './ws-connection.limiter.js';

/** Redis when `redis.url` is set (one limit across instances), else memory. */
export function createRateLimitStore(
  config: GatewayConfig,
  options: RateLimitModuleOptions,
): RateLimitStore {
  return config.redis.url
    ? new RedisRateLimitStore({ url: config.redis.url })
    : new MemoryRateLimitStore({ maxKeys: options.maxKeys });
}

const storeProvider: Provider = {
  provide: RATE_LIMIT_STORE,
  inject: [GatewayConfig, RATE_LIMIT_MODULE_OPTIONS],
  useFactory: createRateLimitStore,
};

/**
 * Rate limits for the whole gateway: @nestjs/throttler with a `client` limit on every call and a
 * `session` limit on session-limited methods, its guard global (APP_GUARD), counters in memory or
 * Redis, and new WebSocket connections limited per IP at the upgrade.
 * Import it as it is, or through `forRoot(options)`.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [GatewayConfig],
      useFactory: (config: GatewayConfig) => ({
        throttlers: [
          { name: CLIENT_THROTTLER, ...config.rateLimit.client },
          { name: SESSION_THROTTLER, ...config.rateLimit.session },
        ],
      }),
    }),
  ],
  providers: [
    storeProvider,
    // The guard's storage is ours, whatever ThrottlerModule would default to.
    { provide: ThrottlerStorage, useExisting: RATE_LIMIT_STORE },
    RateLimitStatsService,
    WsConnectionLimiter,
    { provide: WS_UPGRADE_LIMITER, useExisting: WsConnectionLimiter },
    { provide: APP_GUARD, useClass: GatewayThrottlerGuard },
  ],
  exports: [RateLimitStatsService, RATE_LIMIT_STORE, WS_UPGRADE_LIMITER],
})
export class RateLimitModule {}
