import 'reflect-metadata';
import { Reflector } from '@nestjs/core';
import { SkipThrottle, Throttle } from '@nestjs/throttler';
import { describe, expect, it } from 'vitest';
import { GatewayConfig } from '../config/gateway-config.js';
import type { RpcCallContext } from '../rpc/rpc-call-context.js';
import type { RpcMethodDescriptor } from '../rpc/rpc-guard.js';
import { GatewayThrottlerGuard } from './gateway-throttler.guard.js';
import { MemoryRateLimitStore } from './memory-rate-limit.store.js';
import { RateLimitStatsService } from './rate-limit-stats.service.js';
import { RateLimitCounter } from './rate-limit.counter.js';
import { RateLimitedException } from './rate-limited.exception.js';
import { SessionRateLimited } from './session-rate-limited.decorator.js';

class Methods {
  plain(): void {}

  @SkipThrottle({ client: true })
  unlimited(): void {}

  @Throttle({ client: { limit: 2, ttl: 60_000 } })
  tight(): void {}

  @SessionRateLimited('conversation')
  perSession(): void {}

  // A computed limit: the stock guard's path, per call.
  @Throttle({ client: { limit: () => 2, ttl: 60_000 } })
  computed(): void {}
}

function guard(): GatewayThrottlerGuard {
  const throttlers = [
    { name: 'client', limit: 5, ttl: 60_000 },
    { name: 'session', limit: 1, ttl: 60_000 },
  ];
  const store = new MemoryRateLimitStore();
  const config = new GatewayConfig();
  return new GatewayThrottlerGuard(
    { throttlers },
    store,
    new Reflector(),
    config,
    new RateLimitCounter(store, config, new RateLimitStatsService(store)),
    {},
  );
}

function method(name: keyof Methods): RpcMethodDescriptor {
  return {
    metadata: { name: `test.${name}`, scope: 'x' },
    isPublic: false,
    owner: Methods,
    // Only read for its metadata, never called.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    handler: Methods.prototype[name],
  };
}

function call(params: unknown = {}, subject = 'alice'): RpcCallContext {
  return {
    method: { name: 'test' },
    params,
    transport: 'http',
    caller: { subject, scopes: new Set() },
    ip: '127.0.0.1',
    headers: {},
    correlationId: 'c',
    isNotification: false,
    signal: new AbortController().signal,
    cancelSignal: new AbortController().signal,
    responseHeaders: new Map(),
  };
}

/** Calls a prepared check until it refuses; the number of calls that passed. */
function passes(check: (call: RpcCallContext) => void | Promise<void>, params?: unknown): number {
  for (let n = 0; n < 100; n++) {
    try {
      expect(check(call(params))).toBeUndefined();
    } catch (error) {
      expect(error).toBeInstanceOf(RateLimitedException);
      return n;
    }
  }
  return 100;
}

describe('GatewayThrottlerGuard.prepareRpcCheck', () => {
  it('counts the client limit synchronously on the memory store, with header text', () => {
    const check = guard().prepareRpcCheck(method('plain'))!;
    const first = call();
    expect(check(first)).toBeUndefined();
    expect(first.responseHeaders.get('ratelimit-policy')).toBe('"client";q=5;w=60');
    expect(first.responseHeaders.get('x-ratelimit-remaining')).toBe('4');
    expect(passes(check)).toBe(4);
  });

  it('reads @SkipThrottle and @Throttle as @nestjs/throttler writes them', () => {
    expect(guard().prepareRpcCheck(method('unlimited'))).toBeNull();
    expect(passes(guard().prepareRpcCheck(method('tight'))!)).toBe(2);
  });

  it('limits a @SessionRateLimited method per value of its params field', () => {
    const check = guard().prepareRpcCheck(method('perSession'))!;
    expect(passes(check, { conversation: 'a' })).toBe(1);
    expect(passes(check, { conversation: 'b' })).toBe(1);
  });

  it('keys a computed limit, on the stock path, by subject as prepared ones are', async () => {
    const check = guard().prepareRpcCheck(method('computed'))!;
    const outcomes = async (subject: string) => {
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        seen.push(
          await Promise.resolve(check(call({}, subject))).then(
            () => 'ok',
            (error: unknown) => (error instanceof RateLimitedException ? 'limited' : 'other'),
          ),
        );
      }
      return seen;
    };
    expect(await outcomes('alice')).toEqual(['ok', 'ok', 'limited']);
    expect(await outcomes('bob')).toEqual(['ok', 'ok', 'limited']);
  });
});
