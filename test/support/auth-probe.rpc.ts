import { Injectable, Module } from '@nestjs/common';
import { RpcMethod } from '../../src/core/rpc/rpc-method.decorator.js';
import type { RpcCallContext } from '../../src/core/rpc/rpc-call-context.js';

/** A scoped method for the auth tests: it answers with the caller the guard handed it. */
@Injectable()
export class AuthProbeRpc {
  @RpcMethod('probe.whoami', { scope: 'sessions:read' })
  whoami(_params: unknown, ctx: RpcCallContext): { subject?: string; scopes: string[] } {
    return { subject: ctx.caller?.subject, scopes: [...(ctx.caller?.scopes ?? [])].sort() };
  }
}

@Module({ providers: [AuthProbeRpc] })
export class AuthProbeModule {}
