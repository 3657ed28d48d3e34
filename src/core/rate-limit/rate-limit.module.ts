import { Global, Module, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule, ThrottlerStorage } from '@nestjs/throttler';
import { AUTH_FAILURE_LIMITER } from './auth-failure-limiter.js';
import { GatewayConfig } from '../config/gateway-config.js';
import { LiveSeriesModule } from '../live-series/live-series.module.js';
import { WS_UPGRADE_LIMITER } from '../ws/ws-upgrade-limiter.js';
import { GatewayThrottlerGuard } from './gateway-throttler.guard.js';
import { IpAuthFailureLimiter } from './ip-auth-failure.limiter.js';
import { MemoryRateLimitStore } from './memory-rate-limit.store.js';
import { RateLimitStatsService } from './rate-limit-stats.service.js';
import { RateLimitCounter } from './rate-limit.counter.js';
import {
  CLIENT_THROTTLER,
  RATE_LIMIT_MODULE_OPTIONS,
  SESSION_THROTTLER,
  type RateLimitModuleOptions,
} from './rate-limit.options.js';
import { RATE_LIMIT_STORE, type RateLimitStore } from './rate-limit.store.js';
import { WsConnectionLimiter } from './ws-connection.limiter.js';

/**
 * Where counters live decides whether limits hold across instances: Redis when `redis.url` is
 * set, else PostgreSQL when the event log is there (any instance may join it), else memory
 * (SQLite serves one instance). A store's client library (ioredis, pg) is imported only when
 * that store is chosen.
 */
export async function createRateLimitStore(
  config: GatewayConfig,
  options: RateLimitModuleOptions,
): Promise<RateLimitStore> {
  if (config.redis.url) {
    const { RedisRateLimitStore } = await import('./redis-rate-limit.store.js');
    return new RedisRateLimitStore({ url: config.redis.url });
  }
  if (/^postgres(ql)?:\/\//.test(config.database.url)) {
    const { PostgresRateLimitStore } = await import('./postgres-rate-limit.store.js');
    return new PostgresRateLimitStore({ url: config.database.url });
  }
  return new MemoryRateLimitStore({ maxKeys: options.maxKeys });
}

const storeProvider: Provider = {
  provide: RATE_LIMIT_STORE,
  inject: [GatewayConfig, RATE_LIMIT_MODULE_OPTIONS],
  useFactory: createRateLimitStore,
};

/**
 * Rate limits for the whole gateway: @nestjs/throttler with a `client` limit on every call and a
 * `session` limit on session-limited methods, its guard global (APP_GUARD), counters in memory or
 * Redis, new WebSocket connections limited per IP at the upgrade, open ones capped, and a
 * per-IP budget of failed authentications.
 * Global because core (auth, the WS adapter, health) takes its providers with @Optional():
 * they plug in when the module is imported, and the gateway works without it.
 */
@Global()
@Module({
  imports: [
    LiveSeriesModule,
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
    RateLimitCounter,
    WsConnectionLimiter,
    { provide: WS_UPGRADE_LIMITER, useExisting: WsConnectionLimiter },
    IpAuthFailureLimiter,
    { provide: AUTH_FAILURE_LIMITER, useExisting: IpAuthFailureLimiter },
    { provide: APP_GUARD, useClass: GatewayThrottlerGuard },
  ],
  exports: [
    RateLimitStatsService,
    RateLimitCounter,
    RATE_LIMIT_STORE,
    WS_UPGRADE_LIMITER,
    AUTH_FAILURE_LIMITER,
  ],
})
export class RateLimitModule {}
