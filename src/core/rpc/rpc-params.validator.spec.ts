import { IsInt, IsObject, IsOptional, IsString, Max, Min, ValidateBy } from 'class-validator';
import { describe, expect, it, vi } from 'vitest';
import { RpcErrorCode } from './rpc-error-code.js';
import { RpcParamsSchemas } from './rpc-params.schemas.js';
import { MAX_PARAMS_DEPTH, RpcParamsCompiler } from './rpc-params.validator.js';
import { RpcException } from './rpc.exception.js';

class NoteParams {
  @IsString()
  title!: string;

  @IsOptional()
  @IsObject()
  extra?: Record<string, unknown>;
}

class PageParams {
  @IsString()
  key!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number = 20;

  @IsOptional()
  @IsObject()
  @ValidateBy({
    name: 'maxJsonLength',
    constraints: [16],
    validator: { validate: (value: unknown) => JSON.stringify(value).length <= 16 },
  })
  meta?: Record<string, unknown>;
}

/** A host's own validator, which JSON Schema cannot say: class-validator checks this class. */
class EvenParams {
  @ValidateBy({
    name: 'isEven',
    validator: {
      validate: (value: unknown) => typeof value === 'number' && value % 2 === 0,
      defaultMessage: () => '$property must be even',
    },
  })
  n!: number;
}

const compiler = new RpcParamsCompiler(new RpcParamsSchemas());

function validateParams(paramsClass: (new () => object) | undefined, raw: unknown): object {
  return compiler.compile(paramsClass)(raw);
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
    expect(params).toEqual({ title: 't', extra: { a: [1, { b: 'c' }] } });
  });

  it('fills in the class defaults and refuses unknown properties, naming each', () => {
    expect(validateParams(PageParams, { key: 'k' })).toEqual({ key: 'k', limit: 20 });
    expect(refusal({ key: 'k', limit: 0, extra: 1, other: 2 }, PageParams).data).toEqual({
      violations: expect.arrayContaining([
        { path: 'limit', message: 'must be >= 1' },
        { path: 'extra', message: 'property should not exist' },
        { path: 'other', message: 'property should not exist' },
      ]) as unknown,
    });
    expect(refusal({}, PageParams).data).toEqual({
      violations: [{ path: 'key', message: "must have required property 'key'" }],
    });
  });

  it('takes null for an optional param as not given (its default applies), not for a required one', () => {
    expect(validateParams(PageParams, { key: 'k', limit: null, meta: null })).toEqual({
      key: 'k',
      limit: 20,
    });
    expect(refusal({ key: null }, PageParams).data).toEqual({
      violations: [{ path: 'key', message: 'must be string' }],
    });
  });

  it('checks @MaxJsonLength through the schema keyword it publishes', () => {
    expect(validateParams(PageParams, { key: 'k', meta: { a: 1 } })).toMatchObject({
      meta: { a: 1 },
    });
    expect(refusal({ key: 'k', meta: { a: 'x'.repeat(20) } }, PageParams).data).toEqual({
      violations: [{ path: 'meta', message: 'must be at most 16 characters as JSON' }],
    });
  });

  it('refuses positional params and accepts no params for a method without a class', () => {
    expect(refusal(['a'], PageParams).data).toEqual({
      violations: [
        { path: '', message: 'params must be an object (this server takes params by name)' },
      ],
    });
    expect(validateParams(undefined, undefined)).toEqual({});
    expect(refusal({ x: 1 }).data).toEqual({
      violations: [{ path: 'x', message: 'property should not exist' }],
    });
  });

  it('falls back to class-validator for a constraint JSON Schema cannot say', () => {
    expect(new RpcParamsSchemas().isExpressible(EvenParams)).toBe(false);
    expect(new RpcParamsSchemas().isExpressible(PageParams)).toBe(true);
    expect(validateParams(EvenParams, { n: 4 })).toBeInstanceOf(EvenParams);
    expect(refusal({ n: 3 }, EvenParams).data).toEqual({
      violations: [{ path: 'n', message: 'must be even' }],
    });
  });

  it("generates a method's validator on its first call, once", () => {
    const schemas = new RpcParamsSchemas();
    const forClass = vi.spyOn(schemas, 'forClass');
    const validate = new RpcParamsCompiler(schemas).compile(PageParams);
    expect(forClass).not.toHaveBeenCalled();
    expect(validate({ key: 'a' })).toEqual({ key: 'a', limit: 20 });
    expect(() => validate({ key: 'a', limit: 101 })).toThrow(RpcException);
    expect(forClass).toHaveBeenCalledTimes(1);
  });
});
