import { BlockList, isIP } from 'node:net';

type Headers = Record<string, string | string[] | undefined>;

/**
 * The peers whose X-Forwarded-For the gateway believes: exact addresses or CIDRs, IPv4 and IPv6.
 * Parsed once per config list (see `trustedProxies`).
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly isEmpty: boolean;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address, prefix, extra] = entry.trim().split('/');
      const normalized = normalizeIp(address);
      const family = isIP(normalized);
      const bits = prefix === undefined ? undefined : Number(prefix);
      const max = family === 4 ? 32 : 128;
      if (
        family === 0 ||
        extra !== undefined ||
        (bits !== undefined && (!/^\d+$/.test(prefix) || bits > max))
      ) {
        throw new Error(`Invalid trusted proxy "${entry}": expected an IP address or a CIDR`);
      }
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.list.addAddress(normalized, type);
      else this.list.addSubnet(normalized, bits, type);
    }
    this.isEmpty = entries.length === 0;
  }

  has(address: string): boolean {
    if (this.isEmpty) return false;
    const normalized = normalizeIp(address);
    const family = isIP(normalized);
    return family !== 0 && this.list.check(normalized, family === 4 ? 'ipv4' : 'ipv6');
  }
}

const parsed = new WeakMap<readonly string[], TrustedProxies>();

/** The parsed form of a config list, built once per list. */
export function trustedProxies(entries: readonly string[]): TrustedProxies {
  let proxies = parsed.get(entries);
  if (!proxies) {
    proxies = new TrustedProxies(entries);
    parsed.set(entries, proxies);
  }
  return proxies;
}

/** `::ffff:1.2.3.4` is the IPv4 client 1.2.3.4; brackets and zone ids are dropped. */
export function normalizeIp(address: string | undefined): string {
  if (!address) return '';
  let ip = address.trim();
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  const zone = ip.indexOf('%');
  if (zone >= 0) ip = ip.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return mapped ? mapped[1] : ip.toLowerCase();
}

/**
 * The client's address: the TCP peer, unless the peer is a trusted proxy, in which case
 * X-Forwarded-For is walked from the right, skipping trusted hops; the first untrusted hop is
 * the client. Fastify's `trustProxy: true` would believe any peer, so it is never used.
 */
export function clientIp(
  peer: string | undefined,
  headers: Headers,
  proxies: readonly string[] | TrustedProxies,
): string {
  const trusted = proxies instanceof TrustedProxies ? proxies : trustedProxies(proxies);
  let address = normalizeIp(peer);
  if (!trusted.has(address)) return address || 'unknown';
  const header = headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((hop) => normalizeIp(hop))
    .filter((hop) => hop !== '');
  while (trusted.has(address)) {
    const hop = hops.pop();
    // A garbled hop cannot be a client: the last trusted proxy is the best we know.
    if (hop === undefined || isIP(hop) === 0) break;
    address = hop;
  }
  return address;
}

/** The key a client address is counted under: IPv6 clients by their /64, as one host. */
export function ipKey(address: string): string {
  if (isIP(address) !== 6) return address;
  return expandIpv6(address).slice(0, 4).join(':') + '::/64';
}

function expandIpv6(address: string): string[] {
  let text = address;
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((group) => group.replace(/^0+(?=.)/, ''));
}
