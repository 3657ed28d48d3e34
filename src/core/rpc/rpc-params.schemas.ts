import { createRequire } from 'node:module';
import type * as ClassValidatorJsonSchema from 'class-validator-jsonschema';
import { getMetadataStorage, ValidationTypes } from '../validation/class-validator.parts.js';
import {
  allConstraintMetas,
  BUILT_IN_CONVERTERS,
  generateClassSchema,
  type ConstraintMeta,
  type JsonSchema,
} from './rpc-params.schema-generator.js';

export type { JsonSchema };

export const SCHEMA_REF_PREFIX = '#/components/schemas/';

/**
 * Keyword for a limit on a value's size as JSON (`@MaxJsonLength`): JSON Schema has none, and
 * both rpc.discover's readers and the params validator need to see it.
 */
export const MAX_JSON_LENGTH_KEYWORD = 'x-maxJsonLength';

/** Class-validator constraints we turn into schema keywords ourselves. */
const OWN_CONVERTERS = {
  maxJsonLength: (meta: { constraints?: unknown[] }) => ({
    [MAX_JSON_LENGTH_KEYWORD]: meta.constraints?.[0],
  }),
};

const FAST_CONSTRAINTS = new Set<string>([
  ...Object.keys(BUILT_IN_CONVERTERS),
  ...Object.keys(OWN_CONVERTERS),
]);

const load = createRequire(import.meta.url);

/**
 * class-validator-jsonschema, loaded on first need: only a class with a constraint outside
 * BUILT_IN_CONVERTERS needs it, and it loads class-validator's whole index.
 */
function jsonSchemaPackage(): {
  validationMetadatasToSchemas: typeof ClassValidatorJsonSchema.validationMetadatasToSchemas;
  defaultConverters: Record<string, unknown>;
} {
  const { validationMetadatasToSchemas } = load(
    'class-validator-jsonschema',
  ) as typeof ClassValidatorJsonSchema;
  const { defaultConverters } = load('class-validator-jsonschema/build/defaultConverters.js') as {
    defaultConverters: Record<string, unknown>;
  };
  return { validationMetadatasToSchemas, defaultConverters };
}

const GENERATOR_OPTIONS = {
  refPointerPrefix: SCHEMA_REF_PREFIX,
  additionalConverters: {
    [ValidationTypes.CUSTOM_VALIDATION]: describeCustomValidation,
    ...OWN_CONVERTERS,
  },
};

/** Every class's schema, by class-validator-jsonschema (what the generator here must equal). */
export function schemasByPackage(): Record<string, JsonSchema> {
  return jsonSchemaPackage().validationMetadatasToSchemas(GENERATOR_OPTIONS) as Record<
    string,
    JsonSchema
  >;
}

/**
 * A custom validator (ValidateBy) is described by its property's TypeScript type, which becomes a
 * `$ref` to the type's name. For a built-in (`Record<…>` is `Object`, arrays are `Array`) nothing
 * defines that schema and the ref would dangle: the other decorators already give the type.
 */
function describeCustomValidation(meta: { target: unknown; propertyName: string }): JsonSchema {
  const type: unknown =
    typeof meta.target === 'function'
      ? Reflect.getMetadata('design:type', meta.target.prototype as object, meta.propertyName)
      : undefined;
  if (typeof type !== 'function') return {};
  const isBuiltIn = (globalThis as Record<string, unknown>)[type.name] === type;
  return isBuiltIn ? {} : { $ref: SCHEMA_REF_PREFIX + type.name };
}

/** Copies a schema without any `$ref` that names no component (its siblings stay). */
function withoutDanglingRefs(value: unknown, known: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutDanglingRefs(item, known));
  if (typeof value !== 'object' || value === null) return value;
  const dangling = (ref: unknown) =>
    typeof ref === 'string' &&
    ref.startsWith(SCHEMA_REF_PREFIX) &&
    !known.has(ref.slice(SCHEMA_REF_PREFIX.length));
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, item]) => !(key === '$ref' && dangling(item)))
      .map(([key, item]) => [key, withoutDanglingRefs(item, known)]),
  );
}

/** Defaults a params class gives its properties (`limit = 100`), as schema `default`s. */
function withDefaults(paramsClass: new () => object, schema: JsonSchema): JsonSchema {
  let sample: object;
  try {
    sample = new paramsClass();
  } catch {
    return schema;
  }
  const properties = { ...((schema.properties ?? {}) as Record<string, JsonSchema>) };
  for (const [name, value] of Object.entries(sample)) {
    if (value !== undefined && properties[name]) {
      properties[name] = { ...properties[name], default: value as unknown };
    }
  }
  return { ...schema, properties };
}

type ParamsClass = abstract new (...args: never[]) => unknown;

/**
 * The JSON Schemas of params classes, from their class-validator decorators: the one source for
 * what rpc.discover publishes and for the validators the pipeline compiles. Each schema is
 * closed (`additionalProperties: false`), as params are whitelisted. A class is converted here
 * when every constraint it has is a built-in conversion (all of the gateway's own are), else by
 * class-validator-jsonschema, loaded then; the two give the same schema
 * (rpc-params.schema-generator.spec.ts). Schemas are made on first request and kept.
 */
export class RpcParamsSchemas {
  private readonly metas: ConstraintMeta[] = allConstraintMetas();
  /** Classes with validation metadata of their own, by name: what a `$ref` can point to. */
  private readonly classes = new Map<string, ParamsClass>();
  private readonly components = new Map<string, JsonSchema>();
  private byPackage?: Record<string, JsonSchema>;

  constructor() {
    for (const meta of this.metas) {
      if (typeof meta.target === 'function') {
        this.classes.set(meta.target.name, meta.target as ParamsClass);
      }
    }
  }

  /** The schema of a params class (with its defaults), and every component it refers to. */
  forClass(paramsClass: new () => object): {
    schema: JsonSchema;
    components: Map<string, JsonSchema>;
  } {
    const components = new Map<string, JsonSchema>();
    const collect = (name: string): void => {
      const schema = this.component(name);
      if (!schema || components.has(name)) return;
      components.set(name, name === paramsClass.name ? withDefaults(paramsClass, schema) : schema);
      for (const ref of JSON.stringify(schema).matchAll(/#\/components\/schemas\/([\w$]+)/g)) {
        collect(ref[1]);
      }
    };
    collect(paramsClass.name);
    const schema = components.get(paramsClass.name) ?? {
      type: 'object',
      properties: {},
      additionalProperties: false,
    };
    return { schema, components };
  }

  /**
   * True when every constraint on the class has a schema equivalent. A custom validator the
   * converters do not know (a host's own decorator) would be lost in the schema: such a class is
   * validated by class-validator instead.
   */
  isExpressible(paramsClass: new () => object): boolean {
    const storage = getMetadataStorage();
    const metadatas = storage.getTargetValidationMetadatas(paramsClass, '', true, false);
    return metadatas.every((meta) => {
      if (meta.type === ValidationTypes.NESTED_VALIDATION) return false;
      if (meta.type === ValidationTypes.PROMISE_VALIDATION) return false;
      if (meta.type !== ValidationTypes.CUSTOM_VALIDATION) return true;
      const [constraint] = meta.constraintCls
        ? storage.getTargetValidatorConstraints(meta.constraintCls)
        : [];
      if (constraint === undefined) return false;
      return (
        FAST_CONSTRAINTS.has(constraint.name) ||
        constraint.name in jsonSchemaPackage().defaultConverters
      );
    });
  }

  /** A class's closed schema, made on first request; undefined for a class without metadata. */
  private component(name: string): JsonSchema | undefined {
    const cached = this.components.get(name);
    if (cached) return cached;
    const target = this.classes.get(name);
    if (!target) return undefined;
    const generated = this.onlyBuiltIns(target)
      ? generateClassSchema(target, this.metas, GENERATOR_OPTIONS)
      : (this.byPackage ??= schemasByPackage())[name];
    if (!generated) return undefined;
    // A nested type without class-validator metadata has no schema: its refs would dangle.
    const known = new Set(this.classes.keys());
    const schema = {
      ...(withoutDanglingRefs(generated, known) as JsonSchema),
      additionalProperties: false,
    };
    this.components.set(name, schema);
    return schema;
  }

  /** Whether every constraint on the class and its parents converts without the package. */
  private onlyBuiltIns(target: ParamsClass): boolean {
    return this.metas.every(
      (meta) =>
        typeof meta.target !== 'function' ||
        !(meta.target === target || target.prototype instanceof meta.target) ||
        FAST_CONSTRAINTS.has(meta.type),
    );
  }
}
