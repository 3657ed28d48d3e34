/** A request's headers as guards read them: lower-cased names, Node's values. */
export type HeaderRecord = Record<string, string | string[] | undefined>;

/** Names and values in turn: what an idle socket keeps of its upgrade's headers. */
export type HeaderList = readonly (string | string[])[];

/**
 * Headers whose values most sockets share (the handshake's own, the host, a browser's origin and
 * user agent): their values are kept once for all sockets. Never a credential or a per-client
 * nonce (authorization, sec-websocket-key), which would only fill the pool.
 */
const POOLED = new Set([
  'host',
  'connection',
  'upgrade',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'origin',
  'user-agent',
  'accept-encoding',
  'accept-language',
  'cache-control',
  'pragma',
]);

/** Longer values are not pooled (a browser's `bearer.<token>` subprotocol, for one). */
const MAX_POOLED_LENGTH = 128;

/**
 * Equal header values, kept once. Bounded: once full it keeps what it has and pools nothing new,
 * so a client sending ever-different values costs the pool nothing more than its cap.
 */
export class HeaderValuePool {
  private readonly values = new Map<string, string>();

  constructor(private readonly maxEntries = 512) {}

  get size(): number {
    return this.values.size;
  }

  /** The pooled string equal to `value`, or `value` itself. */
  intern(value: string): string {
    if (value.length > MAX_POOLED_LENGTH) return value;
    const pooled = this.values.get(value);
    if (pooled !== undefined) return pooled;
    if (this.values.size < this.maxEntries) this.values.set(value, value);
    return value;
  }
}

/** The process's pool: every WebSocket's upgrade headers go through it. */
export const upgradeHeaderValues = new HeaderValuePool();

/**
 * The headers as a flat list of names and values (smaller than the object Node made), with the
 * common values shared. All of them are kept: a host's guard may read any header.
 */
export function compactHeaders(
  headers: HeaderRecord,
  pool: HeaderValuePool = upgradeHeaderValues,
): HeaderList {
  const list: (string | string[])[] = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    list.push(name, typeof value === 'string' && POOLED.has(name) ? pool.intern(value) : value);
  }
  // A copy of exactly its length: the list grew by doubling, and it is kept as long as the socket.
  return list.slice();
}

/** The headers as an object again, for a guard or handler that reads them. */
export function expandHeaders(list: HeaderList): HeaderRecord {
  const headers: HeaderRecord = {};
  for (let i = 0; i < list.length; i += 2) headers[list[i] as string] = list[i + 1];
  return headers;
}
