import { Ajv, type ValidateFunction } from 'ajv';
import { plainToInstance } from 'class-transformer';
import { validateSync } from '../validation/class-validator.parts.js';
import { isPrototypeKey } from '../config/prototype-key.js';
import {
  publicViolations,
  violationsFromAjv,
  violationsFromClassValidator,
  type Violation,
} from '../validation/violation.js';
import { RpcErrorCode } from './rpc-error-code.js';
import {
  MAX_JSON_LENGTH_KEYWORD,
  SCHEMA_REF_PREFIX,
  type JsonSchema,
  type RpcParamsSchemas,
} from './rpc-params.schemas.js';
import { RpcException } from './rpc.exception.js';

/** Deepest nesting accepted in params: validators recurse, so depth must be bounded first. */
export const MAX_PARAMS_DEPTH = 32;

/** Turns a call's raw params into what its handler receives, or throws -32602. */
export type ParamsValidator = (raw: unknown) => object;

function invalid(violations: Violation[]): RpcException {
  return new RpcException(RpcErrorCode.InvalidParams, 'Invalid params', {
    violations: publicViolations(violations),
  });
}

/**
 * Refuses params nested deeper than MAX_PARAMS_DEPTH or holding a prototype name as a key, before
 * anything recursive runs. Iterative, so a 10,000-deep document cannot overflow the stack here.
 */
function checkShape(raw: object): Violation | undefined {
  const stack: Array<{ value: object; depth: number; root: string }> = [
    { value: raw, depth: 1, root: '' },
  ];
  while (stack.length) {
    const { value, depth, root } = stack.pop()!;
    const keys = Array.isArray(value) ? [] : Object.keys(value);
    for (const key of keys) {
      if (isPrototypeKey(key)) {
        return { path: root || key, message: `the key "${key}" is not accepted` };
      }
    }
    const children = Array.isArray(value)
      ? (value as unknown[])
      : keys.map((key) => (value as Record<string, unknown>)[key]);
    for (let i = 0; i < children.length; i++) {
      const child = children[i];
      if (typeof child !== 'object' || child === null) continue;
      // Violations name only the top-level property, so a reply never echoes a deep path.
      const path = root || (Array.isArray(value) ? String(i) : keys[i]);
      if (depth >= MAX_PARAMS_DEPTH) {
        return { path, message: `must not be nested deeper than ${MAX_PARAMS_DEPTH} levels` };
      }
      stack.push({ value: child, depth: depth + 1, root: path });
    }
  }
  return undefined;
}

/**
 * Params go by name: an absent or empty-array params is `{}`, any other non-object is refused;
 * then the shape check. A fresh object is returned, as ajv fills in defaults.
 */
function prepare(raw: unknown): Record<string, unknown> {
  if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid([
      { path: '', message: 'params must be an object (this server takes params by name)' },
    ]);
  }
  const shape = checkShape(raw);
  if (shape) throw invalid([shape]);
  return { ...(raw as Record<string, unknown>) };
}

function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return Infinity;
  }
}

/**
 * Compiles each method's params validator once, on its first call, from the same JSON Schema
 * rpc.discover publishes. Params are whitelisted (unknown keys refused) and class defaults
 * filled in.
 */
export class RpcParamsCompiler {
  private readonly ajv: Ajv;

  constructor(private readonly schemas: RpcParamsSchemas) {
    this.ajv = new Ajv({
      allErrors: true,
      coerceTypes: false,
      useDefaults: true,
      removeAdditional: false,
      strict: false,
      // Our own generated schemas: checking them against the meta-schema would compile it at
      // every boot. (json-rpc.e2e-spec compiles the published ones in strict mode.)
      validateSchema: false,
    });
    this.ajv.addKeyword({
      keyword: MAX_JSON_LENGTH_KEYWORD,
      schemaType: 'number',
      errors: true,
      validate: function maxJsonLength(this: unknown, max: number, data: unknown): boolean {
        const ok = jsonLength(data) <= max;
        if (!ok) {
          (maxJsonLength as { errors?: unknown[] }).errors = [
            {
              keyword: MAX_JSON_LENGTH_KEYWORD,
              message: `must be at most ${max} characters as JSON`,
              params: { limit: max },
            },
          ];
        }
        return ok;
      },
    });
  }

  /**
   * A method's params validator. Its ajv code is generated on the method's first call (about a
   * millisecond), not at boot: compiling all of them was 30 ms of every cold start, for methods
   * a given deployment may never see called.
   */
  compile(paramsClass: (new () => object) | undefined): ParamsValidator {
    if (!paramsClass) return noParams;
    if (!this.schemas.isExpressible(paramsClass)) return classValidatorFor(paramsClass);
    let compiled: ParamsValidator | undefined;
    return (raw) => (compiled ??= this.compileSchema(paramsClass))(raw);
  }

  private compileSchema(paramsClass: new () => object): ParamsValidator {
    const { schema, components } = this.schemas.forClass(paramsClass);
    const validate: ValidateFunction = this.ajv.compile(
      resolveRefs(schema, components) as JsonSchema,
    );
    // `null` for an optional param means "not given", as it did under class-validator's
    // @IsOptional (clients in languages without `undefined` send it); its default then applies.
    const required = new Set((schema.required ?? []) as string[]);
    const optional = Object.keys(schema.properties ?? {}).filter((key) => !required.has(key));
    return (raw) => {
      const params = prepare(raw);
      for (const key of optional) if (params[key] === null) delete params[key];
      if (!validate(params)) throw invalid(violationsFromAjv(validate.errors ?? []));
      return params;
    };
  }
}

/** Inlines `#/components/schemas/X` refs (acyclic by construction: params classes are flat). */
function resolveRefs(value: unknown, components: Map<string, JsonSchema>, depth = 0): unknown {
  if (depth > 16) return {};
  if (Array.isArray(value)) return value.map((item) => resolveRefs(item, components, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  const ref = (value as { $ref?: unknown }).$ref;
  if (typeof ref === 'string' && ref.startsWith(SCHEMA_REF_PREFIX)) {
    const target = components.get(ref.slice(SCHEMA_REF_PREFIX.length));
    return target ? resolveRefs(target, components, depth + 1) : {};
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, resolveRefs(item, components, depth + 1)]),
  );
}

function noParams(raw: unknown): object {
  const params = prepare(raw);
  const keys = Object.keys(params);
  if (keys.length) {
    throw invalid(keys.map((key) => ({ path: key, message: 'property should not exist' })));
  }
  return params;
}

/** For a params class whose constraints JSON Schema cannot say: class-validator, as before. */
function classValidatorFor(paramsClass: new () => object): ParamsValidator {
  return (raw) => {
    const instance = plainToInstance(paramsClass, prepare(raw), {
      enableImplicitConversion: false,
    });
    const errors = validateSync(instance, {
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      validationError: { target: false, value: false },
    });
    if (errors.length) throw invalid(violationsFromClassValidator(errors));
    return instance;
  };
}
