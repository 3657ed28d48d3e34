import type { BackoffOptions } from './backoff.js';
import type { ConnectionState } from './client.types.js';
import type { TokenOptions } from './token.source.js';
import type { WebSocketConstructor } from './web-socket.js';

/** `createClient`'s options: where the gateway is, and one source of tokens. */
export type ClientOptions = TokenOptions & {
  /** The gateway's address: `http://127.0.0.1:18789` (a `ws://…/ws` or `…/rpc` address also works). */
  url: string;
  /** `ws` (the default): one WebSocket, streaming and live sessions; `http`: `POST /rpc` per call. */
  transport?: 'ws' | 'http';
  /** A WebSocket constructor, where there is no global one (Node 20 uses the `ws` package). */
  webSocket?: WebSocketConstructor;
  /** A `fetch` (default: the global one). */
  fetch?: typeof fetch;
  /** Reconnect delays: the first (default 250 ms), doubling up to the longest (default 15 s). */
  reconnect?: Partial<BackoffOptions>;
  onStateChange?: (state: ConnectionState) => void;
};

export interface GatewayEndpoints {
  rpc: string;
  ws: string;
  token: string;
}

/** The endpoints under the gateway's address, whichever of its forms was given. */
export function gatewayEndpoints(url: string): GatewayEndpoints {
  const parsed = new URL(url);
  if (parsed.protocol === 'ws:') parsed.protocol = 'http:';
  if (parsed.protocol === 'wss:') parsed.protocol = 'https:';
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`The gateway url must be http(s) or ws(s), got ${parsed.protocol}`);
  }
  const path = parsed.pathname.replace(/\/(ws|rpc)\/?$/, '').replace(/\/+$/, '');
  const base = `${parsed.origin}${path}`;
  return {
    rpc: `${base}/rpc`,
    ws: `${base.replace(/^http/, 'ws')}/ws`,
    token: `${base}/auth/token`,
  };
}
