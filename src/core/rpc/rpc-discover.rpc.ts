import { Injectable, SetMetadata } from '@nestjs/common';
import { Public } from '../identity/public.decorator.js';
import { OpenRpcService } from './openrpc.service.js';
import { RpcMethod } from './rpc-method.decorator.js';
import { CORE_RPC_PROVIDER } from './rpc-method.registry.js';

@Injectable()
@SetMetadata(CORE_RPC_PROVIDER, true)
export class RpcDiscoverRpc {
  constructor(private readonly openRpc: OpenRpcService) {}

  @Public()
  @RpcMethod('rpc.discover', {
    description: 'The OpenRPC document of every method this gateway serves.',
    result: { name: 'OpenRPC', schema: { type: 'object' } },
  })
  discover(): Record<string, unknown> {
    return this.openRpc.build();
  }
}
