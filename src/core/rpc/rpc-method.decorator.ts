import { SetMetadata, applyDecorators } from '@nestjs/common';

export const RPC_METHOD_METADATA = 'openclaw:rpc-method';

export interface RpcMethodOptions {
  /** Scope the caller's token must carry; omit only together with @Public(). */
  scope?: string;
  /** Params class validated by the dispatcher (whitelisted: unknown keys are refused). */
  params?: new () => object;
  /** One line for rpc.discover. */
  description?: string;
  /** JSON Schema of the result, for rpc.discover. */
  result?: { name: string; schema: Record<string, unknown> };
  /** Error codes the method may answer with, for rpc.discover. */
  errors?: number[];
}

export interface RpcMethodMetadata extends RpcMethodOptions {
  name: string;
}

/**
 * Exposes a provider method as a JSON-RPC method. The registry finds it at boot in any module,
 * so adding a module with such a provider is how the gateway is extended.
 * The handler receives `(params, context: RpcCallContext)`.
 */
export function RpcMethod(name: string, options: RpcMethodOptions = {}): MethodDecorator {
  return applyDecorators(SetMetadata(RPC_METHOD_METADATA, { ...options, name }));
}
