import { describe, expect, it } from 'vitest';
import { bearerFromAuthorization, bearerFromUpgrade } from './bearer-token.js';

describe('bearer credentials', () => {
  it('reads the Authorization header and refuses other schemes and oversize values', () => {
    expect(bearerFromAuthorization('Bearer abc')).toEqual({ kind: 'token', token: 'abc' });
    expect(bearerFromAuthorization(undefined)).toEqual({ kind: 'none' });
    expect(bearerFromAuthorization('Basic abc').kind).toBe('malformed');
    expect(bearerFromAuthorization('Bearer ').kind).toBe('malformed');
    expect(bearerFromAuthorization(`Bearer ${'a'.repeat(9000)}`).kind).toBe('malformed');
  });

  it('takes a WebSocket token from the header first, else from one bearer.<token> subprotocol', () => {
    expect(bearerFromUpgrade({ 'sec-websocket-protocol': 'openclaw.v1, bearer.xyz' })).toEqual({
      kind: 'token',
      token: 'xyz',
    });
    expect(
      bearerFromUpgrade({ authorization: 'Bearer abc', 'sec-websocket-protocol': 'bearer.xyz' }),
    ).toEqual({ kind: 'token', token: 'abc' });
    expect(bearerFromUpgrade({ 'sec-websocket-protocol': 'bearer.a, bearer.b' }).kind).toBe(
      'malformed',
    );
    expect(bearerFromUpgrade({ 'sec-websocket-protocol': 'openclaw.v1' })).toEqual({
      kind: 'none',
    });
  });
});
