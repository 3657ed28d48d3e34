import { IsEmail } from 'class-validator';
import { describe, expect, it } from 'vitest';
// Every params and config class the gateway has, decorated as at boot.
import '../../gateway.module.js';
import {
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from '../validation/class-validator.parts.js';
import {
  allConstraintMetas,
  BUILT_IN_CONVERTERS,
  generateClassSchema,
} from './rpc-params.schema-generator.js';
import { RpcParamsSchemas, SCHEMA_REF_PREFIX, schemasByPackage } from './rpc-params.schemas.js';

class Inner {
  @IsString()
  @MaxLength(8)
  label!: string;
}

class BaseParams {
  @IsInt()
  @Min(1)
  @Max(10)
  page!: number;

  @IsOptional()
  @IsString()
  cursor?: string;
}

/** Inheritance, `each`, a nested class, a mixed-type IsIn (no enum), a pattern. */
class EdgeParams extends BaseParams {
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @MaxLength(4, { each: true })
  tags?: string[];

  @ValidateNested()
  inner!: Inner;

  @IsIn(['a', 1])
  mixed!: string | number;

  @IsIn(['x', 'y'])
  @Matches(/^[xy]$/)
  choice!: string;
}

/** A host's class with a constraint outside the built-in conversions. */
class ContactParams {
  @IsEmail()
  email!: string;
}

const OPTIONS = { refPointerPrefix: SCHEMA_REF_PREFIX, additionalConverters: {} };

describe('the params schema generator', () => {
  it('gives the schema class-validator-jsonschema gives, for every class that uses built-in constraints only', () => {
    const metas = allConstraintMetas();
    const byPackage = schemasByPackage();
    const classes = new Set(metas.map((meta) => meta.target));
    let compared = 0;
    for (const target of classes) {
      if (typeof target !== 'function') continue;
      const own = metas.filter(
        (meta) =>
          typeof meta.target === 'function' &&
          (meta.target === target || target.prototype instanceof meta.target),
      );
      if (!own.every((meta) => meta.type in BUILT_IN_CONVERTERS)) continue;
      const generated = generateClassSchema(target as new () => object, metas, OPTIONS);
      expect(generated, target.name).toEqual(byPackage[target.name]);
      compared++;
    }
    // The gateway's own params classes (about 15) and the edge cases above, at least.
    expect(compared).toBeGreaterThan(15);
    expect(classes.has(EdgeParams)).toBe(true);
  });

  it('converts inheritance, each, nested classes and IsIn choices', () => {
    const schema = generateClassSchema(EdgeParams, allConstraintMetas(), OPTIONS);
    expect(schema).toEqual({
      type: 'object',
      properties: {
        tags: { type: 'array', items: { type: 'string', maxLength: 4 } },
        inner: { $ref: `${SCHEMA_REF_PREFIX}Inner` },
        mixed: {},
        choice: { type: 'string', enum: ['x', 'y'], pattern: '^[xy]$' },
        page: { type: 'integer', minimum: 1, maximum: 10 },
        cursor: { type: 'string' },
      },
      required: ['inner', 'mixed', 'choice', 'page'],
    });
  });

  it('converts a class with another constraint through class-validator-jsonschema', () => {
    const schemas = new RpcParamsSchemas();
    expect(schemas.isExpressible(ContactParams)).toBe(true);
    expect(schemas.forClass(ContactParams).schema).toEqual({
      type: 'object',
      properties: { email: { type: 'string', format: 'email' } },
      required: ['email'],
      additionalProperties: false,
    });
  });
});
