import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { Caller } from '../identity/caller.js';
import { GatewayConfig, LimitConfig } from '../config/gateway-config.js';
import { MemoryRateLimitStore } from './memory-rate-limit.store.js';
import { RateLimitStatsService } from './rate-limit-stats.service.js';
import { WsConnectionLimiter } from './ws-connection.limiter.js';

function limiter(perSubject: number, perIp: number, perMinute = 1000): WsConnectionLimiter {
  const config = new GatewayConfig();
  config.ws.maxConnectionsPerSubject = perSubject;
  config.ws.maxConnectionsPerIp = perIp;
  config.rateLimit.client = LimitConfig.of(perMinute, 60_000);
  const store = new MemoryRateLimitStore({ now: () => 0 });
  return new WsConnectionLimiter(store, new RateLimitStatsService(store), config, {});
}

const from = (ip: string) =>
  ({ socket: { remoteAddress: ip }, headers: {} }) as unknown as IncomingMessage;
const as = (subject: string): Caller => ({ subject, scopes: new Set() });

describe('WsConnectionLimiter', () => {
  it('caps open connections per subject, and a released place can be taken again', async () => {
    const limits = limiter(2, 10);
    const first = await limits.admit(from('10.0.0.1'), as('alice'));
    const second = await limits.admit(from('10.0.0.2'), as('alice'));
    expect([first.ok, second.ok]).toEqual([true, true]);
    expect(await limits.admit(from('10.0.0.3'), as('alice'))).toMatchObject({
      ok: false,
      status: 429,
    });
    expect((await limits.admit(from('10.0.0.3'), as('bob'))).ok).toBe(true);
    if (!first.ok) throw new Error('unreachable');
    first.release?.();
    first.release?.(); // Twice gives back one place, not two.
    expect(limits.openCount({ subject: 'alice' })).toBe(1);
    expect((await limits.admit(from('10.0.0.3'), as('alice'))).ok).toBe(true);
    expect(await limits.admit(from('10.0.0.4'), as('alice'))).toMatchObject({ ok: false });
  });

  it('caps open connections per IP (an IPv6 /64) whoever connects', async () => {
    const limits = limiter(10, 2);
    expect((await limits.admit(from('2001:db8::1'), as('a'))).ok).toBe(true);
    expect((await limits.admit(from('2001:db8::2'), as('b'))).ok).toBe(true);
    expect((await limits.admit(from('2001:db8::3'), as('c'))).ok).toBe(false);
    expect((await limits.admit(from('2001:db9::1'), as('c'))).ok).toBe(true);
  });

  it('takes no place for an upgrade refused by the connection rate', async () => {
    const limits = limiter(10, 10, 1);
    expect((await limits.admit(from('10.0.0.1'), as('a'))).ok).toBe(true);
    expect(await limits.admit(from('10.0.0.1'), as('a'))).toMatchObject({
      ok: false,
      status: 429,
      headers: { 'Retry-After': '60' },
    });
    expect(limits.openCount({ subject: 'a' })).toBe(1);
    expect(limits.openCount({ ip: '10.0.0.1' })).toBe(1);
  });

  it('does not overshoot the cap when upgrades race through the store', async () => {
    const limits = limiter(3, 100);
    const admissions = await Promise.all(
      Array.from({ length: 10 }, () => limits.admit(from('10.0.0.1'), as('alice'))),
    );
    expect(admissions.filter((a) => a.ok)).toHaveLength(3);
    expect(limits.openCount({ subject: 'alice' })).toBe(3);
  });
});
