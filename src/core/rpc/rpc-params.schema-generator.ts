import type { MetadataStorage } from 'class-validator';
import { getMetadataStorage, ValidationTypes } from '../validation/class-validator.parts.js';

type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];

export type JsonSchema = Record<string, unknown>;

/** A validation metadata with a custom constraint's name as its type, as the converters see it. */
export type ConstraintMeta = ValidationMetadata & { type: string };

type Converter = JsonSchema | ((meta: ConstraintMeta) => JsonSchema | undefined);

const first = (meta: ConstraintMeta): unknown => meta.constraints?.[0];

/** A primitive `IsIn` choice's type, as class-validator-jsonschema describes it. */
function primitiveSchema(value: unknown): JsonSchema | undefined {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean' ? { type } : undefined;
}

/**
 * class-validator-jsonschema's own conversions for the constraints the gateway's params classes
 * use, keyed by class-validator's constraint names; the same output, kept equal by
 * rpc-params.schema-generator.spec.ts. Loading that package loads class-validator's index (and
 * with it validator.js and libphonenumber-js), so a class that uses a constraint outside this
 * table is converted by the package instead (RpcParamsSchemas).
 */
export const BUILT_IN_CONVERTERS: Readonly<Record<string, Converter>> = {
  // A nested class's $ref needs the pointer prefix: generateClassSchema puts the real one in.
  [ValidationTypes.NESTED_VALIDATION]: {},
  [ValidationTypes.WHITELIST]: {},
  [ValidationTypes.CONDITIONAL_VALIDATION]: {},
  [ValidationTypes.IS_DEFINED]: { not: { type: 'null' } },
  isString: { type: 'string' },
  isNumber: { type: 'number' },
  isInt: { type: 'integer' },
  isBoolean: { type: 'boolean' },
  isObject: { type: 'object' },
  isArray: { items: {}, type: 'array' },
  isNotEmpty: { minLength: 1, type: 'string' },
  isIn: (meta) => {
    const choices = first(meta) as unknown[];
    const [head, ...rest] = choices.map(primitiveSchema);
    if (head && rest.every((item) => item?.type === head.type)) return { ...head, enum: choices };
    return undefined;
  },
  min: (meta) => ({ minimum: first(meta), type: 'number' }),
  max: (meta) => ({ maximum: first(meta), type: 'number' }),
  minLength: (meta) => ({ minLength: first(meta), type: 'string' }),
  maxLength: (meta) => ({ maxLength: first(meta), type: 'string' }),
  matches: (meta) => ({ pattern: (first(meta) as RegExp).source, type: 'string' }),
};

export interface SchemaGeneratorOptions {
  refPointerPrefix: string;
  /** Conversions besides (and over) the built-in ones, by constraint name or validation type. */
  additionalConverters: Record<string, Converter>;
}

/** Every metadata in the storage, custom ones typed by their constraint's name. */
export function allConstraintMetas(): ConstraintMeta[] {
  const storage = getMetadataStorage();
  const all: ConstraintMeta[] = [];
  // The storage's map of every target's metadata (public in class-validator, not in its types).
  const byTarget = (
    storage as unknown as { validationMetadatas: Map<unknown, ValidationMetadata[]> }
  ).validationMetadatas;
  for (const metas of byTarget.values()) {
    for (const meta of metas) {
      const [constraint] = meta.constraintCls
        ? storage.getTargetValidatorConstraints(meta.constraintCls)
        : [];
      all.push({ ...meta, type: constraint ? constraint.name : meta.type });
    }
  }
  return all;
}

/** lodash.merge's rule for plain JSON: objects and arrays merged key by key, undefined skipped. */
function mergeInto(target: Record<string, unknown>, source: unknown): Record<string, unknown> {
  if (typeof source !== 'object' || source === null) return target;
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const current = target[key];
    if (typeof value === 'object' && value !== null) {
      const base =
        typeof current === 'object' && current !== null ? current : Array.isArray(value) ? [] : {};
      target[key] = mergeInto(base as Record<string, unknown>, value);
    } else {
      target[key] = value;
    }
  }
  return target;
}

/**
 * The JSON Schema of one class from its class-validator metadata (its own and its parents'),
 * built as class-validator-jsonschema's validationMetadatasToSchemas builds it.
 */
export function generateClassSchema(
  target: abstract new (...args: never[]) => unknown,
  all: ConstraintMeta[],
  options: SchemaGeneratorOptions,
): JsonSchema {
  const converters: Record<string, Converter> = {
    ...BUILT_IN_CONVERTERS,
    [ValidationTypes.NESTED_VALIDATION]: (meta) => nestedTypeSchema(meta, options.refPointerPrefix),
    ...options.additionalConverters,
  };
  const own = all.filter((meta) => meta.target === target);
  const inherited = all.filter(
    (meta) =>
      meta.target instanceof Function &&
      target.prototype instanceof meta.target &&
      !all.some(
        (m) => m.propertyName === meta.propertyName && m.target === target && m.type === meta.type,
      ),
  );
  const byProperty = new Map<string, ConstraintMeta[]>();
  for (const meta of [...own, ...inherited]) {
    const list = byProperty.get(meta.propertyName) ?? [];
    list.push(meta);
    byProperty.set(meta.propertyName, list);
  }
  const convert = (meta: ConstraintMeta): unknown => {
    const converter = converters[meta.type] ?? converters[ValidationTypes.CUSTOM_VALIDATION];
    const items = typeof converter === 'function' ? converter(meta) : converter;
    return meta.each ? { items, type: 'array' } : items;
  };
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const optional = (meta: ConstraintMeta): boolean =>
    meta.type === ValidationTypes.CONDITIONAL_VALIDATION || meta.type === 'isEmpty';
  for (const [name, metas] of byProperty) {
    properties[name] = metas.reduce((schema, meta) => mergeInto(schema, convert(meta)), {});
    if (!metas.some(optional)) required.push(name);
  }
  const schema: JsonSchema = { properties, type: 'object' };
  if (required.length) schema.required = required;
  return schema;
}

/** The class a nested property refers to (`design:type`), for a `$ref` to its schema. */
export function nestedTypeSchema(meta: ConstraintMeta, refPointerPrefix: string): JsonSchema {
  const type: unknown =
    typeof meta.target === 'function'
      ? Reflect.getMetadata('design:type', meta.target.prototype as object, meta.propertyName)
      : undefined;
  if (typeof type !== 'function') return {};
  if (type.prototype === String.prototype || type.prototype === Symbol.prototype) {
    return { type: 'string' };
  }
  if (type.prototype === Number.prototype) return { type: 'number' };
  if (type.prototype === Boolean.prototype) return { type: 'boolean' };
  return { $ref: refPointerPrefix + type.name };
}
