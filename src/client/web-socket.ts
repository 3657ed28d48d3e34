/**
 * The part of the WHATWG WebSocket the client uses: the browser's, Node >= 22's global, or the
 * `ws` package's (which implements the same `on*` handlers).
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

/** `WebSocket.OPEN`, the same in every implementation. */
export const WS_OPEN = 1;

/**
 * The WebSocket to use: the one given, else the global one, else (Node 20, which has none) the
 * `ws` package. The import is by a variable so that browser bundlers leave it alone.
 */
export async function resolveWebSocket(
  given?: WebSocketConstructor,
): Promise<WebSocketConstructor> {
  if (given) return given;
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global) return global;
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions
    ?.node;
  if (node === undefined) {
    throw new Error('No WebSocket implementation: pass the `webSocket` option');
  }
  const name = 'ws';
  const module = (await import(/* @vite-ignore */ name)) as {
    WebSocket?: WebSocketConstructor;
    default?: WebSocketConstructor;
  };
  const found = module.WebSocket ?? module.default;
  if (!found) throw new Error('The ws package has no WebSocket export');
  return found;
}

/** A text frame's data as a string (browsers and Node give strings; `ws` may give a Buffer). */
export function frameText(data: unknown): string {
  return typeof data === 'string' ? data : String(data);
}
