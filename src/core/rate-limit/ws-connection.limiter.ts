import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Caller } from '../identity/caller.js';
import { GatewayConfig } from '../config/gateway-config.js';
import type { WsUpgradeAdmission, WsUpgradeLimiter } from '../ws/ws-upgrade-limiter.js';
import { clientIp, ipKey } from '../rpc/client-ip.js';
import { OpenConnectionCounter } from './open-connection.counter.js';
import { RateLimitStatsService } from './rate-limit-stats.service.js';
import {
  RATE_LIMIT_MODULE_OPTIONS,
  WS_CONNECT_LIMIT,
  WS_OPEN_LIMIT,
  type RateLimitModuleOptions,
} from './rate-limit.options.js';
import {
  RATE_LIMIT_STORE,
  RateLimitStoreUnavailableError,
  type RateLimitStore,
} from './rate-limit.store.js';

/**
 * WebSockets per client, decided at the upgrade after authentication (a refused token spends the
 * failed-authentication budget, not this one): new connections per IP in the shared store, so
 * reconnecting neither resets a limit nor costs more than a refused handshake; and open
 * connections per subject and per IP on this instance, given back when the socket closes.
 */
@Injectable()
export class WsConnectionLimiter implements WsUpgradeLimiter {
  private readonly logger = new Logger('RateLimit');
  private readonly limit: number;
  private readonly ttl: number;
  private readonly bySubject: OpenConnectionCounter;
  private readonly byIp: OpenConnectionCounter;

  constructor(
    @Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore,
    private readonly stats: RateLimitStatsService,
    private readonly config: GatewayConfig,
    @Inject(RATE_LIMIT_MODULE_OPTIONS) options: RateLimitModuleOptions,
  ) {
    this.limit = options.wsConnections?.limit ?? config.rateLimit.client.limit;
    this.ttl = options.wsConnections?.ttl ?? config.rateLimit.client.ttl;
    this.bySubject = new OpenConnectionCounter(config.ws.maxConnectionsPerSubject);
    this.byIp = new OpenConnectionCounter(config.ws.maxConnectionsPerIp);
  }

  /** Open connections counted now, per subject and per IP (for tests and /status). */
  openCount(key: { subject?: string; ip?: string }): number {
    if (key.subject !== undefined) return this.bySubject.count(key.subject);
    return key.ip === undefined ? 0 : this.byIp.count(ipKey(key.ip));
  }

  async admit(request: IncomingMessage, caller?: Caller): Promise<WsUpgradeAdmission> {
    const ip = clientIp(
      request.socket.remoteAddress,
      request.headers,
      this.config.gateway.trustedProxies,
    );
    const ipCount = ipKey(ip);
    const subject = caller?.subject;
    // Checked before the store is touched, so a client at its cap costs no round trip.
    if (this.isFull(subject, ipCount)) return this.refuseOpen(ip, subject);

    let retryAfterMs: number;
    try {
      const record = await this.store.increment(
        `${WS_CONNECT_LIMIT}:ip:${ipCount}`,
        this.ttl,
        this.limit,
        this.ttl,
        WS_CONNECT_LIMIT,
      );
      if (!record.isBlocked) return this.open(ip, ipCount, subject);
      retryAfterMs = Math.max(1, record.timeToExpireMs);
    } catch (err) {
      if (!(err instanceof RateLimitStoreUnavailableError)) throw err;
      this.stats.storeFailed();
      if (this.config.rateLimit.onStoreFailure === 'open') return this.open(ip, ipCount, subject);
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

  private isFull(subject: string | undefined, ip: string): boolean {
    return (subject !== undefined && this.bySubject.isFull(subject)) || this.byIp.isFull(ip);
  }

  /** Takes the places, unless concurrent upgrades filled them while the store answered. */
  private open(ip: string, ipCount: string, subject: string | undefined): WsUpgradeAdmission {
    if (this.isFull(subject, ipCount)) return this.refuseOpen(ip, subject);
    if (subject !== undefined) this.bySubject.add(subject);
    this.byIp.add(ipCount);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        if (subject !== undefined) this.bySubject.remove(subject);
        this.byIp.remove(ipCount);
      },
    };
  }

  private refuseOpen(ip: string, subject: string | undefined): WsUpgradeAdmission {
    this.stats.rejected(WS_OPEN_LIMIT);
    this.logger.debug({ ip, subject }, 'WebSocket connection refused: too many open');
    return { ok: false, status: 429, message: 'Too many open connections' };
  }
}
