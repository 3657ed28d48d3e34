import { describe, expect, it } from 'vitest';
import { AsyncQueue } from './async.queue.js';
import { backoffDelay } from './backoff.js';
import { gatewayEndpoints } from './client.options.js';
import { tokenExpiry } from './jwt-expiry.js';
import { RpcError } from './rpc.error.js';
import { WsCallBook } from './ws-call.book.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('the client helpers', () => {
  it('backs off exponentially with jitter, within bounds', () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, options, () => 0))).toEqual([
      50, 100, 200, 400, 500,
    ]);
    expect(backoffDelay(10, options, () => 1)).toBe(1000);
  });

  it('reads a JWT exp, and nothing from a malformed token', () => {
    expect(tokenExpiry(`${b64({ alg: 'HS256' })}.${b64({ exp: 1_800_000_000, sub: 'é' })}.x`)).toBe(
      1_800_000_000_000,
    );
    expect(tokenExpiry('nope')).toBeUndefined();
    expect(tokenExpiry(`a.${b64({ exp: 'soon' })}.b`)).toBeUndefined();
  });

  it('derives the endpoints from any form of the gateway address', () => {
    for (const url of ['http://h:1', 'http://h:1/', 'ws://h:1/ws', 'http://h:1/rpc']) {
      expect(gatewayEndpoints(url)).toEqual({
        rpc: 'http://h:1/rpc',
        ws: 'ws://h:1/ws',
        token: 'http://h:1/auth/token',
      });
    }
    expect(gatewayEndpoints('https://h/gw/').ws).toBe('wss://h/gw/ws');
    expect(() => gatewayEndpoints('ftp://h')).toThrow(/http/);
  });

  it('names the gateway codes and reads their data', () => {
    const limited = new RpcError(-32005, 'Rate limited', { retryAfterMs: 1200 });
    expect([limited.kind, limited.retryAfterMs, limited.retryable]).toEqual([
      'RateLimited',
      1200,
      true,
    ]);
    const agent = new RpcError(-32010, 'Agent failed', { retryable: false });
    expect([agent.kind, agent.retryable]).toEqual(['AgentFailed', false]);
    expect(new RpcError(-31999, 'other').kind).toBe('Unknown');
  });

  it('yields queued items, then the error once, and releases its source once', async () => {
    let released = 0;
    const queue = new AsyncQueue<number>(() => released++);
    queue.push(1);
    queue.push(2);
    queue.fail(new Error('boom'));
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const n of queue) seen.push(n);
      })(),
    ).rejects.toThrow('boom');
    expect(seen).toEqual([1, 2]);
    await queue.return();
    expect(released).toBe(1);
  });

  it('frames queued calls in call order, a batch in one frame', () => {
    const book = new WsCallBook();
    void book.add([{ method: 'a', params: {}, retry: false }], false);
    void book.add(
      [
        { method: 'b', params: {}, retry: true },
        { method: 'c', params: {}, retry: true },
      ],
      true,
    );
    const frames = book.takeFrames();
    expect(frames.map((f) => f.ids)).toEqual([[1], [2, 3]]);
    expect(JSON.parse(frames[1].frame).map((r: { method: string }) => r.method)).toEqual([
      'b',
      'c',
    ]);
    expect(book.queued).toBe(0);
  });
});
