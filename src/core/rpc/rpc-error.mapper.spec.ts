import { describe, expect, it } from 'vitest';
import { mapRpcError } from './rpc-error.mapper.js';
import { GatewayErrorCode } from '../errors/gateway-error-code.js';
import { GatewayException } from '../errors/gateway.exception.js';
import { isStoreUnavailable } from '../errors/store-unavailable.js';

describe('isStoreUnavailable', () => {
  it('knows connection failures of pg, TypeORM and ioredis, however wrapped', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    expect(isStoreUnavailable(refused)).toBe(true);
    expect(isStoreUnavailable({ message: 'query failed', driverError: refused })).toBe(true);
    expect(isStoreUnavailable(new Error('wrapped', { cause: { code: '57P01' } }))).toBe(true);
    expect(isStoreUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it('leaves every other error alone', () => {
    expect(isStoreUnavailable(new Error('duplicate key value'))).toBe(false);
    expect(isStoreUnavailable({ code: '23505' })).toBe(false);
    expect(isStoreUnavailable(undefined)).toBe(false);
  });

  it('is answered -32013, retryable, and not logged as a fault', () => {
    const mapped = mapRpcError({ code: 'ECONNRESET', message: 'read ECONNRESET' }, 'c-1');
    expect(mapped).toEqual({
      error: {
        code: -32013,
        message: 'Service unavailable: a store the gateway needs is unreachable; retry',
        data: { retryable: true, correlationId: 'c-1' },
      },
      unexpected: false,
    });
  });
});

describe('mapRpcError', () => {
  it('answers a spent budget -32012 with its data', () => {
    const data = { budget: 'subject', used: 10, limit: 10, resetAt: '2026-01-02T00:00:00.000Z' };
    const spent = new GatewayException(GatewayErrorCode.BUDGET_EXCEEDED, 'spent', data);
    expect(mapRpcError(spent, 'c-1')).toEqual({
      error: { code: -32012, message: 'spent', data },
      unexpected: false,
    });
  });
});
