import type { CanActivate, Type } from '@nestjs/common';
import type { RpcCallContext } from './rpc-call-context.js';
import type { RpcMethodMetadata } from './rpc-method.decorator.js';

/** A JSON-RPC method as the pipeline compiler sees it at boot. */
export interface RpcMethodDescriptor {
  readonly metadata: RpcMethodMetadata;
  readonly isPublic: boolean;
  /** The provider class and handler function, for metadata (Reflector) look-ups. */
  readonly owner: Type;
  readonly handler: (...args: unknown[]) => unknown;
}

/**
 * One guard's check of one call, prepared for one method: undefined when it passed without
 * waiting, a promise when it had to wait (a shared store); a refusal is thrown.
 */
export type RpcCallCheck = (call: RpcCallContext) => void | Promise<void>;

/**
 * A guard that knows JSON-RPC calls can say, once per method at boot, what it will check for
 * that method (or `null`: nothing, so the pipeline skips it). The product's own global guards
 * (authentication, rate limits) do; any other guard runs through its `canActivate` with a
 * prepared execution context.
 */
export interface RpcPreparedGuard extends CanActivate {
  prepareRpcCheck(method: RpcMethodDescriptor): RpcCallCheck | null;
}

export function isRpcPreparedGuard(guard: CanActivate): guard is RpcPreparedGuard {
  return typeof (guard as Partial<RpcPreparedGuard>).prepareRpcCheck === 'function';
}
