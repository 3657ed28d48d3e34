import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, ExternalContextCreator, MetadataScanner, Reflector } from '@nestjs/core';
import { IS_PUBLIC_METADATA } from '../auth/public.decorator.js';
import { RPC_CONTEXT_TYPE, type RpcCallContext } from './rpc-call-context.js';
import { RPC_METHOD_METADATA, type RpcMethodMetadata } from './rpc-method.decorator.js';
import { validateParams } from './rpc-params.validator.js';

export interface RegisteredRpcMethod {
  readonly metadata: RpcMethodMetadata;
  readonly isPublic: boolean;
  /** Runs the global and the method's guards, validates params, then calls the handler. */
  invoke(ctx: RpcCallContext): Promise<unknown>;
}

type Handler = (...args: unknown[]) => unknown;

/** Names in the `rpc.` namespace belong to the gateway itself (JSON-RPC 2.0 §4). */
const RESERVED_PREFIX = 'rpc.';
export const CORE_RPC_PROVIDER = 'openclaw:core-rpc-provider';

/**
 * The method table: discovered at boot from every module's providers, it is the single source
 * for the dispatcher and for rpc.discover.
 */
@Injectable()
export class RpcMethodRegistry implements OnModuleInit {
  private readonly logger = new Logger(RpcMethodRegistry.name);
  private readonly methods = new Map<string, RegisteredRpcMethod>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly contextCreator: ExternalContextCreator,
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
        if (metadata) this.register(instance, methodName, handler, metadata);
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
    instance: object,
    methodName: string,
    handler: Handler,
    metadata: RpcMethodMetadata,
  ): void {
    const owner = instance.constructor.name;
    if (this.methods.has(metadata.name)) {
      throw new Error(`Duplicate JSON-RPC method "${metadata.name}" (in ${owner}.${methodName})`);
    }
    const isCore = Reflect.getMetadata(CORE_RPC_PROVIDER, instance.constructor) === true;
    if (metadata.name.startsWith(RESERVED_PREFIX) && !isCore) {
      throw new Error(
        `JSON-RPC method "${metadata.name}" (in ${owner}.${methodName}) uses the reserved "rpc." prefix`,
      );
    }
    const isPublic =
      this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_METADATA, [
        handler,
        instance.constructor,
      ]) === true;
    if (!isPublic && !metadata.scope) {
      throw new Error(
        `JSON-RPC method "${metadata.name}" (in ${owner}.${methodName}) declares no scope and is not @Public()`,
      );
    }

    // Guards must run before params are validated, so validation lives in a wrapper that carries
    // the handler's metadata: guards and Reflector see the decorated method through it.
    const validated = function (this: object, _raw: unknown, ctx: RpcCallContext): unknown {
      const params = validateParams(metadata.params, ctx.params);
      return handler.call(this, params, ctx);
    };
    for (const key of Reflect.getMetadataKeys(handler) as unknown[]) {
      Reflect.defineMetadata(key, Reflect.getMetadata(key, handler), validated);
    }
    Object.defineProperty(validated, 'name', { value: methodName });

    const guarded = this.contextCreator.create(
      instance,
      validated as Handler,
      methodName,
      undefined,
      undefined,
      undefined,
      undefined,
      { guards: true, interceptors: false, filters: false },
      RPC_CONTEXT_TYPE,
    );
    // Guards see (params, ctx): context.getArgByIndex(1) is the RpcCallContext.
    this.methods.set(metadata.name, {
      metadata,
      isPublic,
      invoke: (ctx) => guarded(ctx.params, ctx) as Promise<unknown>,
    });
  }
}
