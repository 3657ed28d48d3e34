import { ForbiddenException, Injectable, type CanActivate, type Type } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants.js';
import { ApplicationConfig } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { isObservable, lastValueFrom } from 'rxjs';
import type { RpcCallContext } from './rpc-call-context.js';
import { RpcExecutionContext } from './rpc-execution-context.js';
import { isRpcPreparedGuard, type RpcCallCheck, type RpcMethodDescriptor } from './rpc-guard.js';
import type { RpcMethodPlan } from './rpc-method.plan.js';
import { RpcParamsCompiler } from './rpc-params.validator.js';
import { RpcParamsSchemas } from './rpc-params.schemas.js';

type GuardRef = Type<CanActivate> | CanActivate;

function allowed(result: boolean): void {
  // What Nest's own guard consumer answers when a guard says no.
  if (!result) throw new ForbiddenException('Forbidden resource');
}

/**
 * A guard that does not know JSON-RPC, run through its canActivate with an execution context
 * built for the call (its class and handler fixed at boot); booleans need no promise.
 */
function genericCheck(guard: CanActivate, method: RpcMethodDescriptor): RpcCallCheck {
  return (call: RpcCallContext) => {
    const result = guard.canActivate(new RpcExecutionContext(method, call));
    if (typeof result === 'boolean') return allowed(result);
    return (isObservable(result) ? lastValueFrom(result) : result).then(allowed);
  };
}

/**
 * Turns each JSON-RPC method into its plan at boot: the guards Nest would run for it (global
 * guards, including APP_GUARDs, then @UseGuards of the class and of the method), each prepared
 * for that method or skipped when it has nothing to check there; the params validator compiled
 * from the schema rpc.discover publishes; the handler bound to its provider.
 */
@Injectable()
export class RpcPipelineCompiler {
  readonly schemas = new RpcParamsSchemas();
  private readonly params = new RpcParamsCompiler(this.schemas);

  constructor(private readonly appConfig: ApplicationConfig) {}

  compile(
    wrapper: InstanceWrapper,
    descriptor: RpcMethodDescriptor,
    instance: object,
  ): RpcMethodPlan {
    const where = `${descriptor.owner.name}.${descriptor.handler.name}`;
    if (this.appConfig.getGlobalRequestGuards().length) {
      throw new Error(
        `JSON-RPC method "${descriptor.metadata.name}" (${where}): request-scoped global guards are not supported on JSON-RPC calls`,
      );
    }
    const guards = [
      ...this.appConfig.getGlobalGuards(),
      ...this.resolve(wrapper, descriptor.owner, where),
      ...this.resolve(wrapper, descriptor.handler, where),
    ];
    const checks = guards
      .map((guard) =>
        isRpcPreparedGuard(guard)
          ? guard.prepareRpcCheck(descriptor)
          : genericCheck(guard, descriptor),
      )
      .filter((check): check is RpcCallCheck => check !== null);
    const handler = descriptor.handler;
    return {
      ...descriptor,
      checks,
      validate: this.params.compile(descriptor.metadata.params),
      invoke: (params, call) => handler.call(instance, params, call),
    };
  }

  /** @UseGuards on a class or method, as the static instances Nest made for its module. */
  private resolve(wrapper: InstanceWrapper, target: object, where: string): CanActivate[] {
    const refs = (Reflect.getMetadata(GUARDS_METADATA, target) ?? []) as GuardRef[];
    return refs.map((ref) => {
      if (typeof ref !== 'function') return ref;
      const injectable = wrapper.host?.injectables.get(ref);
      if (!injectable?.instance || !injectable.isDependencyTreeStatic()) {
        throw new Error(
          `JSON-RPC method (${where}): guard ${ref.name} must be a static provider of its module`,
        );
      }
      return injectable.instance as CanActivate;
    });
  }
}
