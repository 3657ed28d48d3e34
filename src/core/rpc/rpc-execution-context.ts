import type { ExecutionContext, Type } from '@nestjs/common';
import { RPC_CONTEXT_TYPE, type RpcCallContext } from './rpc-call-context.js';
import type { RpcMethodDescriptor } from './rpc-guard.js';

type HttpArgumentsHost = ReturnType<ExecutionContext['switchToHttp']>;
type RpcArgumentsHost = ReturnType<ExecutionContext['switchToRpc']>;
type WsArgumentsHost = ReturnType<ExecutionContext['switchToWs']>;

/**
 * The ExecutionContext a guard that is not RPC-aware receives for one call: the method's class
 * and handler are fixed at boot, the arguments are `(params, call)` as Nest's external contexts
 * have them, so `getRpcCallContext(context)` works. Built only for guards that need it.
 */
export class RpcExecutionContext implements ExecutionContext {
  private readonly args: [unknown, RpcCallContext];

  constructor(
    private readonly method: RpcMethodDescriptor,
    call: RpcCallContext,
  ) {
    this.args = [call.params, call];
  }

  getClass<T = unknown>(): Type<T> {
    return this.method.owner as Type<T>;
  }

  getHandler(): (...args: unknown[]) => unknown {
    return this.method.handler;
  }

  getArgs<T extends unknown[] = unknown[]>(): T {
    return this.args as unknown as T;
  }

  getArgByIndex<T = unknown>(index: number): T {
    return this.args[index] as T;
  }

  getType<TContext extends string = string>(): TContext {
    return RPC_CONTEXT_TYPE as TContext;
  }

  switchToRpc(): RpcArgumentsHost {
    return {
      getData: <T>() => this.args[0] as T,
      getContext: <T>() => this.args[1] as T,
    };
  }

  switchToHttp(): HttpArgumentsHost {
    return {
      getRequest: <T>() => undefined as T,
      getResponse: <T>() => undefined as T,
      getNext: <T>() => undefined as T,
    };
  }

  switchToWs(): WsArgumentsHost {
    return {
      getClient: <T>() => this.args[1].connection as T,
      getData: <T>() => this.args[0] as T,
      getPattern: () => this.method.metadata.name,
    };
  }
}
