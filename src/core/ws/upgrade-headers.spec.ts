import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { compactHeaders, expandHeaders, HeaderValuePool } from './upgrade-headers.js';
import { WsRpcConnection } from './ws-rpc-connection.js';

const upgrade = (key: string): Record<string, string | string[] | undefined> => ({
  host: 'gateway.example:8080',
  connection: 'Upgrade',
  upgrade: 'websocket',
  'sec-websocket-version': '13',
  'sec-websocket-key': key,
  'sec-websocket-protocol': 'openclaw.v1',
  authorization: 'Bearer abc.def.ghi',
  'x-api-key': 'key-of-dana',
  'x-forwarded-for': ['10.0.0.1', '10.0.0.2'],
  absent: undefined,
});

describe('upgrade headers', () => {
  it('gives back every header a guard may read, values unchanged', () => {
    const headers = upgrade('dGhlIHNhbXBsZSBub25jZQ==');
    const present = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined));
    const expanded = expandHeaders(compactHeaders(headers, new HeaderValuePool()));
    expect(expanded).toStrictEqual(present);
    expect('absent' in expanded).toBe(false);
  });

  it('shares equal values of the common headers between sockets, never credentials', () => {
    const pool = new HeaderValuePool();
    // Values built at run time, as the HTTP parser makes them: equal, not the same strings.
    const a = compactHeaders(upgrade(['k', 'ey1'].join('')), pool);
    const b = compactHeaders(upgrade(['k', 'ey2'].join('')), pool);
    const value = (list: readonly unknown[], name: string): unknown => list[list.indexOf(name) + 1];
    expect(value(b, 'host')).toBe(value(a, 'host'));
    expect(value(b, 'sec-websocket-protocol')).toBe(value(a, 'sec-websocket-protocol'));
    expect(pool.size).toBe(5);
    expect(value(b, 'sec-websocket-key')).toBe('key2');
  });

  it('keeps a bounded pool: past its cap values are kept as they came', () => {
    const pool = new HeaderValuePool(2);
    for (let i = 0; i < 10; i++) expect(pool.intern(`agent/${i}`)).toBe(`agent/${i}`);
    expect(pool.size).toBe(2);
    expect(pool.intern('x'.repeat(200))).toBe('x'.repeat(200));
    expect(pool.size).toBe(2);
  });

  it('are read from a connection as the object the upgrade had, the same one each time', () => {
    const headers = upgrade('a2V5');
    const connection = new WsRpcConnection(
      {} as WebSocket,
      '127.0.0.1',
      headers,
      1024,
      () => undefined,
    );
    expect(connection.headers['x-api-key']).toBe('key-of-dana');
    expect(connection.headers['x-forwarded-for']).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(connection.headers).toBe(connection.headers);
    expect(Object.keys(connection.headers)).toEqual(
      Object.keys(headers).filter((n) => n !== 'absent'),
    );
  });
});
