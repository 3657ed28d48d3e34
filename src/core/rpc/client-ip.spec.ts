import { describe, expect, it } from 'vitest';
import { clientIp, ipKey, TrustedProxies } from './client-ip.js';

describe('TrustedProxies', () => {
  const proxies = new TrustedProxies(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1']);

  it('matches IPv4 CIDRs and exact addresses', () => {
    expect(proxies.has('10.1.2.3')).toBe(true);
    expect(proxies.has('11.0.0.1')).toBe(false);
    expect(proxies.has('192.168.1.7')).toBe(true);
    expect(proxies.has('192.168.1.8')).toBe(false);
  });

  it('matches IPv6 CIDRs and exact addresses, and IPv4-mapped IPv6 peers as IPv4', () => {
    expect(proxies.has('2001:db8:ffff::1')).toBe(true);
    expect(proxies.has('2001:db9::1')).toBe(false);
    expect(proxies.has('::1')).toBe(true);
    expect(proxies.has('::ffff:10.9.8.7')).toBe(true);
  });

  it('refuses entries that are not addresses or CIDRs', () => {
    expect(() => new TrustedProxies(['10.0.0.0/33'])).toThrow(/Invalid trusted proxy/);
    expect(() => new TrustedProxies(['proxy.local'])).toThrow(/Invalid trusted proxy/);
    expect(() => new TrustedProxies(['10.0.0.0/8/1'])).toThrow(/Invalid trusted proxy/);
  });
});

describe('clientIp', () => {
  const trusted = ['127.0.0.1', '10.0.0.0/8'];

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(clientIp('203.0.113.9', { 'x-forwarded-for': '1.2.3.4' }, trusted)).toBe('203.0.113.9');
    expect(clientIp('127.0.0.1', { 'x-forwarded-for': '1.2.3.4' }, [])).toBe('127.0.0.1');
  });

  it('walks the chain from the right, skipping trusted hops', () => {
    const headers = { 'x-forwarded-for': '6.6.6.6, 198.51.100.2, 10.0.0.5' };
    expect(clientIp('127.0.0.1', headers, trusted)).toBe('198.51.100.2');
  });

  it('joins repeated headers and stops at a garbled hop', () => {
    expect(clientIp('127.0.0.1', { 'x-forwarded-for': ['1.1.1.1', '10.0.0.1'] }, trusted)).toBe(
      '1.1.1.1',
    );
    expect(clientIp('127.0.0.1', { 'x-forwarded-for': 'nonsense' }, trusted)).toBe('127.0.0.1');
  });

  it('uses the proxy itself when every hop is trusted or there is no header', () => {
    expect(clientIp('10.0.0.1', { 'x-forwarded-for': '10.0.0.2' }, trusted)).toBe('10.0.0.2');
    expect(clientIp('10.0.0.1', {}, trusted)).toBe('10.0.0.1');
  });

  it('normalises IPv4-mapped peers', () => {
    expect(clientIp('::ffff:203.0.113.9', {}, trusted)).toBe('203.0.113.9');
  });
});

describe('ipKey', () => {
  it('counts an IPv6 client by its /64 and an IPv4 client by its address', () => {
    expect(ipKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(ipKey('2001:db8:1:2:bbbb::9')).toBe('2001:db8:1:2::/64');
    expect(ipKey('::1')).toBe('0:0:0:0::/64');
    expect(ipKey('203.0.113.9')).toBe('203.0.113.9');
  });
});
