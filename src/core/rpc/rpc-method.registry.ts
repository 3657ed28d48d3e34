import { Injectable, Logger, type OnModuleInit, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { IS_PUBLIC_METADATA } from '../identity/public.decorator.js';
import type { RpcCallContext } from './rpc-call-context.js';
import { RPC_METHOD_METADATA, type RpcMethodMetadata } from './rpc-method.decorator.js';
import { runPlan, type RpcMethodPlan } from './rpc-method.plan.js';
import { RpcPipelineCompiler } from './rpc-pipeline.compiler.js';

export interface RegisteredRpcMethod {
  readonly metadata: RpcMethodMetadata;
  readonly isPublic: boolean;
  readonly plan: RpcMethodPlan;
  /**
   * Runs the method's guards, validates params, then calls the handler: synchronously as far as
   * nothing waits (the result may be a value or a promise; a refusal may be thrown).
   */
  run(call: RpcCallContext): unknown;
}

type Handler = (...args: unknown[]) => unknown;

/** Names in the `rpc.` namespace belong to the gateway itself (JSON-RPC 2.0 §4). */
const RESERVED_PREFIX = 'rpc.';
export const CORE_RPC_PROVIDER = 'openclaw:core-rpc-provider';

/**
 * The method table: discovered at boot from every module's providers and compiled, method by
 * method, into call plans. The single source for the dispatcher and for rpc.discover.
 */
@Injectable()
export class RpcMethodRegistry implements OnModuleInit {
  private readonly logger = new Logger(RpcMethodRegistry.name);
  private readonly methods = new Map<string, RegisteredRpcMethod>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    readonly compiler: RpcPipelineCompiler,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, Handler>)[methodName];
        const metadata = this.reflector.get<RpcMethodMetadata | undefined>(
          RPC_METHOD_METADATA,
          handler,
        );
        if (metadata) this.register(wrapper, instance, methodName, handler, metadata);
      }
    }
    this.logger.log(`${this.methods.size} JSON-RPC methods registered`);
  }

  get(name: string): RegisteredRpcMethod | undefined {
    return this.methods.get(name);
  }

  list(): RegisteredRpcMethod[] {
    return [...this.methods.values()].sort((a, b) =>
      a.metadata.name.localeCompare(b.metadata.name),
    );
  }

  private register(
    wrapper: InstanceWrapper,
    instance: object,
    methodName: string,
    handler: Handler,
    metadata: RpcMethodMetadata,
  ): void {
    const owner = instance.constructor as Type;
    const where = `${owner.name}.${methodName}`;
    if (this.methods.has(metadata.name)) {
      throw new Error(`Duplicate JSON-RPC method "${metadata.name}" (in ${where})`);
    }
    const isCore = Reflect.getMetadata(CORE_RPC_PROVIDER, owner) === true;
    if (metadata.name.startsWith(RESERVED_PREFIX) && !isCore) {
      throw new Error(
        `JSON-RPC method "${metadata.name}" (in ${where}) uses the reserved "rpc." prefix`,
      );
    }
    const isPublic =
      this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_METADATA, [
        handler,
        owner,
      ]) === true;
    if (!isPublic && !metadata.scope) {
      throw new Error(
        `JSON-RPC method "${metadata.name}" (in ${where}) declares no scope and is not @Public()`,
      );
    }
    const plan = this.compiler.compile(wrapper, { metadata, isPublic, owner, handler }, instance);
    this.methods.set(metadata.name, {
      metadata,
      isPublic,
      plan,
      run: (call) => runPlan(plan, call),
    });
  }
}
