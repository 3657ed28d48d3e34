import { describe, expect, it } from 'vitest';
import { rateLimitPolicy, writePolicyHeaders } from './rate-limit.headers.js';
import { RpcThrottle } from './rpc-throttle.js';

const client = rateLimitPolicy('client', 60, 60);
const session = new RpcThrottle('session', 10, 30_000, 'sessionKey').headers;

describe('rate-limit headers', () => {
  it("writes one limit's five headers from its prepared parts", () => {
    const headers = new Map<string, string>();
    writePolicyHeaders(headers, client, 59, 60);
    expect(Object.fromEntries(headers)).toEqual({
      'ratelimit-policy': '"client";q=60;w=60',
      ratelimit: '"client";r=59;t=60',
      'x-ratelimit-limit': '60',
      'x-ratelimit-remaining': '59',
      'x-ratelimit-reset': '60',
    });
  });

  it('lists both limits in the IETF fields, each in its own X- headers, in the order counted', () => {
    const headers = new Map<string, string>();
    writePolicyHeaders(headers, client, 59, 60);
    writePolicyHeaders(headers, session, 9, 30);
    expect(headers.get('ratelimit-policy')).toBe('"client";q=60;w=60, "session";q=10;w=30');
    expect(headers.get('ratelimit')).toBe('"client";r=59;t=60, "session";r=9;t=30');
    expect(headers.get('x-ratelimit-remaining')).toBe('59');
    expect(headers.get('x-ratelimit-remaining-session')).toBe('9');
    expect(headers.get('x-ratelimit-limit-session')).toBe('10');
    expect(headers.get('x-ratelimit-reset-session')).toBe('30');
  });

  it('keeps the lowest remaining count of a batch, whatever order its calls finish in', () => {
    const headers = new Map<string, string>();
    writePolicyHeaders(headers, client, 57, 60);
    writePolicyHeaders(headers, session, 8, 30);
    writePolicyHeaders(headers, client, 58, 60);
    expect(headers.get('x-ratelimit-remaining')).toBe('57');
    expect(headers.get('ratelimit')).toBe('"client";r=57;t=60, "session";r=8;t=30');
    writePolicyHeaders(headers, client, 56, 59);
    expect(headers.get('ratelimit')).toBe('"client";r=56;t=59, "session";r=8;t=30');
    expect(headers.get('x-ratelimit-reset')).toBe('59');
  });

  it("keeps one reply's standings apart from another's", () => {
    const first = new Map<string, string>();
    const second = new Map<string, string>();
    writePolicyHeaders(first, client, 3, 60);
    writePolicyHeaders(second, client, 40, 60);
    expect(first.get('x-ratelimit-remaining')).toBe('3');
    expect(second.get('ratelimit')).toBe('"client";r=40;t=60');
  });
});
