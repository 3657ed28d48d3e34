import { Injectable } from '@nestjs/common';
import { ValidationTypes } from 'class-validator';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import { createRequire } from 'node:module';
import { RpcMethodRegistry } from './rpc-method.registry.js';
import { RpcErrorCode } from './rpc-error-code.js';

type JsonSchema = Record<string, unknown>;

const ERROR_MESSAGES: Record<number, string> = {
  [RpcErrorCode.Unauthenticated]: 'Not authenticated',
  [RpcErrorCode.Forbidden]: 'Forbidden: the token lacks the required scope',
  [RpcErrorCode.NotFound]: 'Not found',
  [RpcErrorCode.RateLimited]: 'Rate limited',
  [RpcErrorCode.Conflict]: 'Conflict',
  [RpcErrorCode.AgentFailed]: 'Agent failed or unavailable',
  [RpcErrorCode.ToolFailed]: 'Tool failed or timed out',
  [RpcErrorCode.Unavailable]: 'A store the gateway needs is unreachable; retry',
};

const REF_PREFIX = '#/components/schemas/';

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
  return isBuiltIn ? {} : { $ref: REF_PREFIX + type.name };
}

/** Copies a schema without any `$ref` that names no component (its siblings stay). */
function withoutDanglingRefs(value: unknown, known: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutDanglingRefs(item, known));
  if (typeof value !== 'object' || value === null) return value;
  const dangling = (ref: unknown) =>
    typeof ref === 'string' &&
    ref.startsWith(REF_PREFIX) &&
    !known.has(ref.slice(REF_PREFIX.length));
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, item]) => !(key === '$ref' && dangling(item)))
      .map(([key, item]) => [key, withoutDanglingRefs(item, known)]),
  );
}

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

/** Builds the OpenRPC 1.x document from the method registry; params schemas come from the params classes. */
@Injectable()
export class OpenRpcService {
  private document?: Record<string, unknown>;

  constructor(private readonly registry: RpcMethodRegistry) {}

  build(): Record<string, unknown> {
    if (this.document) return this.document;
    const generated = validationMetadatasToSchemas({
      refPointerPrefix: REF_PREFIX,
      additionalConverters: {
        [ValidationTypes.CUSTOM_VALIDATION]: describeCustomValidation,
      },
    }) as Record<string, JsonSchema>;
    // A nested type without class-validator metadata has no schema: its refs would dangle.
    const known = new Set(Object.keys(generated));
    const schemas = Object.fromEntries(
      Object.entries(generated).map(([name, schema]) => [
        name,
        withoutDanglingRefs(schema, known) as JsonSchema,
      ]),
    );
    const used = new Map<string, JsonSchema>();
    const collect = (name: string): void => {
      const schema = schemas[name];
      if (!schema || used.has(name)) return;
      const closed: JsonSchema = { ...schema, additionalProperties: false };
      used.set(name, closed);
      for (const ref of JSON.stringify(schema).matchAll(/#\/components\/schemas\/([\w$]+)/g)) {
        collect(ref[1]);
      }
    };

    const methods = this.registry.list().map(({ metadata, isPublic }) => {
      const paramsName = metadata.params?.name;
      if (paramsName) collect(paramsName);
      const schema = paramsName ? used.get(paramsName) : undefined;
      const properties = (schema?.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((schema?.required ?? []) as string[]);
      // Any method that reads or writes may meet an outage of the database or Redis.
      const codes = [...(metadata.errors ?? []), ...(isPublic ? [] : [RpcErrorCode.Unavailable])];
      const errors = [...new Set(codes)].map((code) => ({
        code,
        message: ERROR_MESSAGES[code] ?? 'Error',
      }));
      return {
        name: metadata.name,
        summary: metadata.description,
        paramStructure: 'by-name',
        params: Object.entries(properties).map(([name, propertySchema]) => ({
          name,
          required: required.has(name),
          schema: propertySchema,
        })),
        result: metadata.result ?? { name: 'result', schema: {} },
        errors,
        'x-scope': isPublic ? null : metadata.scope,
        'x-public': isPublic,
      };
    });

    this.document = {
      openrpc: '1.3.2',
      info: {
        title: 'openclaw-gateway',
        version,
        description: 'JSON-RPC 2.0 over POST /rpc and WebSocket /ws.',
      },
      servers: [
        { name: 'http', url: '/rpc' },
        { name: 'websocket', url: '/ws' },
      ],
      methods,
      components: { schemas: Object.fromEntries(used) },
    };
    return this.document;
  }
}
