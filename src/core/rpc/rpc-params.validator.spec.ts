import { IsObject, IsOptional, IsString } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { RpcErrorCode } from './rpc-error-code.js';
import { MAX_PARAMS_DEPTH, validateParams } from './rpc-params.validator.js';
import { RpcException } from './rpc.exception.js';

class NoteParams {
  @IsString()
  title!: string;

  @IsOptional()
  @IsObject()
  extra?: Record<string, unknown>;
}

/** `{ a: { a: … } }` with `levels` objects in all. */
function nested(levels: number, leaf: unknown = 1): Record<string, unknown> {
  let value: unknown = leaf;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value as Record<string, unknown>;
}

function refusal(params: unknown, paramsClass?: new () => object): RpcException {
  try {
    validateParams(paramsClass, params);
  } catch (error) {
    if (error instanceof RpcException) return error;
    throw error;
  }
  throw new Error('params were accepted');
}

describe('validateParams', () => {
  it('refuses 10,000 levels of nesting with -32602 naming the top-level property', () => {
    const startedAt = performance.now();
    const error = refusal({ title: 't', extra: nested(10_000) }, NoteParams);
    expect(performance.now() - startedAt).toBeLessThan(100);
    expect(error.code).toBe(RpcErrorCode.InvalidParams);
    expect(error.data).toEqual({
      violations: [
        {
          path: 'extra',
          message: `must not be nested deeper than ${MAX_PARAMS_DEPTH} levels`,
        },
      ],
    });
  });

  it('counts arrays as levels too', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(refusal({ title: 't', extra: { list: deep } }, NoteParams).code).toBe(
      RpcErrorCode.InvalidParams,
    );
  });

  it(`accepts exactly ${MAX_PARAMS_DEPTH} levels and refuses one more`, () => {
    // The params object is the first level.
    expect(() =>
      validateParams(NoteParams, { title: 't', extra: nested(MAX_PARAMS_DEPTH - 1) }),
    ).not.toThrow();
    expect(refusal({ title: 't', extra: nested(MAX_PARAMS_DEPTH) }, NoteParams).code).toBe(
      RpcErrorCode.InvalidParams,
    );
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype'])(
    'refuses %s as a key at the top or deep inside, without an internal error',
    (key) => {
      const top = JSON.parse(`{"title":"t","${key}":{"x":1}}`) as unknown;
      const deep = JSON.parse(`{"title":"t","extra":{"ok":{"${key}":2}}}`) as unknown;
      expect(refusal(top, NoteParams).data).toEqual({
        violations: [{ path: key, message: `the key "${key}" is not accepted` }],
      });
      expect(refusal(deep, NoteParams).data).toEqual({
        violations: [{ path: 'extra', message: `the key "${key}" is not accepted` }],
      });
      expect(refusal(top).code).toBe(RpcErrorCode.InvalidParams);
    },
  );

  it('still takes ordinary nested params', () => {
    const params = validateParams(NoteParams, { title: 't', extra: { a: [1, { b: 'c' }] } });
    expect(params).toBeInstanceOf(NoteParams);
    expect(params).toEqual({ title: 't', extra: { a: [1, { b: 'c' }] } });
  });
});
