import { describe, expect, it } from 'vitest';
import { splitMeta } from './rpc-meta.js';

describe('splitMeta', () => {
  it('takes _meta out of params, leaving the params as they were', () => {
    const params = { sessionKey: 's', _meta: { traceparent: 't' } };
    expect(splitMeta(params)).toEqual({
      params: { sessionKey: 's' },
      meta: { traceparent: 't' },
    });
    expect(params).toHaveProperty('_meta');
  });

  it('returns params without _meta unchanged (the same object)', () => {
    const params = { a: 1 };
    expect(splitMeta(params).params).toBe(params);
    expect(splitMeta(undefined)).toEqual({ params: undefined });
    const list = [{ _meta: {} }];
    expect(splitMeta(list).params).toBe(list);
  });

  it('drops a _meta that is not an object, and ignores an inherited one', () => {
    expect(splitMeta({ _meta: 'x', a: 1 })).toEqual({ params: { a: 1 } });
    expect(splitMeta({ _meta: [1], a: 1 })).toEqual({ params: { a: 1 } });
    const inherited = Object.create({ _meta: { traceparent: 't' } }) as object;
    expect(splitMeta(inherited)).toEqual({ params: inherited });
  });
});
