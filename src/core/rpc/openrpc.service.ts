import { Injectable } from '@nestjs/common';
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
};

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

/** Builds the OpenRPC 1.x document from the method registry; params schemas come from the params classes. */
@Injectable()
export class OpenRpcService {
  private document?: Record<string, unknown>;

  constructor(private readonly registry: RpcMethodRegistry) {}

  build(): Record<string, unknown> {
    if (this.document) return this.document;
    const schemas = validationMetadatasToSchemas({
      refPointerPrefix: '#/components/schemas/',
    }) as Record<string, JsonSchema>;
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
      const errors = (metadata.errors ?? []).map((code) => ({
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
