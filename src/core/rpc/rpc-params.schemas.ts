import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import { defaultConverters } from 'class-validator-jsonschema/build/defaultConverters.js';

export type JsonSchema = Record<string, unknown>;

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

const KNOWN_CONSTRAINTS = new Set<string>([
  ...Object.keys(defaultConverters),
  ...Object.keys(OWN_CONVERTERS),
]);

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

/**
 * The JSON Schemas of params classes, from their class-validator decorators: the one source for
 * what rpc.discover publishes and for the validators the pipeline compiles. Each schema is
 * closed (`additionalProperties: false`), as params are whitelisted.
 */
export class RpcParamsSchemas {
  private readonly components: Record<string, JsonSchema>;

  constructor() {
    const generated = validationMetadatasToSchemas({
      refPointerPrefix: SCHEMA_REF_PREFIX,
      additionalConverters: {
        [ValidationTypes.CUSTOM_VALIDATION]: describeCustomValidation,
        ...OWN_CONVERTERS,
      },
    }) as Record<string, JsonSchema>;
    // A nested type without class-validator metadata has no schema: its refs would dangle.
    const known = new Set(Object.keys(generated));
    this.components = Object.fromEntries(
      Object.entries(generated).map(([name, schema]) => [
        name,
        { ...(withoutDanglingRefs(schema, known) as JsonSchema), additionalProperties: false },
      ]),
    );
  }

  /** The schema of a params class (with its defaults), and every component it refers to. */
  forClass(paramsClass: new () => object): {
    schema: JsonSchema;
    components: Map<string, JsonSchema>;
  } {
    const components = new Map<string, JsonSchema>();
    const collect = (name: string): void => {
      const schema = this.components[name];
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
      return constraint !== undefined && KNOWN_CONSTRAINTS.has(constraint.name);
    });
  }
}
