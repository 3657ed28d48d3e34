import { describe, expect, it } from 'vitest';
import { cancelRequestParams, InFlightCalls } from './in-flight-calls.js';

const call = () => {
  const c = { cancelled: 0, cancel: () => void c.cancelled++ };
  return c;
};

describe('InFlightCalls', () => {
  it('cancels the call booked under the id, by string or number, not the other type', () => {
    const calls = new InFlightCalls();
    const [a, b] = [call(), call()];
    calls.add('1', a);
    calls.add(1, b);
    calls.cancel({ id: 1 });
    expect([a.cancelled, b.cancelled]).toEqual([0, 1]);
  });

  it('ignores unknown ids, malformed params and finished calls, and stores nothing for them', () => {
    const calls = new InFlightCalls();
    const a = call();
    calls.add('a', a);
    for (const params of [undefined, null, 'a', ['a'], {}, { id: null }, { id: { x: 1 } }]) {
      calls.cancel(params);
    }
    calls.cancel({ id: 'x'.repeat(100_000) });
    expect(calls.size).toBe(1);
    calls.delete('a', a);
    calls.cancel({ id: 'a' });
    expect(a.cancelled).toBe(0);
    expect(calls.size).toBe(0);
  });

  it('keeps the first of two calls under one id until that one answers', () => {
    const calls = new InFlightCalls();
    const [first, second] = [call(), call()];
    calls.add('dup', first);
    calls.add('dup', second);
    calls.delete('dup', second);
    calls.cancel({ id: 'dup' });
    expect([first.cancelled, second.cancelled]).toEqual([1, 0]);
  });
});

describe('cancelRequestParams', () => {
  it('reads a single $/cancelRequest notification', () => {
    const text = JSON.stringify({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 3 } });
    expect(cancelRequestParams(text)).toEqual({ params: { id: 3 } });
  });

  it('leaves alone requests, batches, other methods that mention it, and broken JSON', () => {
    const request = { jsonrpc: '2.0', id: 1, method: '$/cancelRequest', params: { id: 3 } };
    const other = {
      jsonrpc: '2.0',
      id: 2,
      method: 'session.message',
      params: { content: '$/cancelRequest' },
    };
    for (const text of [
      JSON.stringify(request),
      JSON.stringify([{ ...request, id: undefined }]),
      JSON.stringify(other),
      '{"method":"$/cancelRequest"',
    ]) {
      expect(cancelRequestParams(text)).toBeUndefined();
    }
  });
});
