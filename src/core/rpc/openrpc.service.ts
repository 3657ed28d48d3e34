import { Injectable } from '@nestjs/common';
import { RpcMethodRegistry } from './rpc-method.registry.js';
import { RpcErrorCode } from './rpc-error-code.js';
import type { JsonSchema } from './rpc-params.schemas.js';
import { PACKAGE_VERSION as version } from '../package-info.js';

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

/** Builds the OpenRPC 1.x document from the method registry; params schemas come from the params classes. */
@Injectable()
export class OpenRpcService {
  private document?: Record<string, unknown>;

  constructor(private readonly registry: RpcMethodRegistry) {}

  build(): Record<string, unknown> {
    if (this.document) return this.document;
    // The schemas the pipeline compiled its validators from: what is published is what is checked.
    const used = new Map<string, JsonSchema>();
    const schemas = this.registry.compiler.schemas;
    const methods = this.registry.list().map(({ metadata, isPublic }) => {
      const forClass = metadata.params ? schemas.forClass(metadata.params) : undefined;
      for (const [name, component] of forClass?.components ?? []) used.set(name, component);
      const schema = forClass?.schema;
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
