import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { WsConnectionRegistry } from '../ws/ws-connection.registry.js';
import { OpenRpcService } from './openrpc.service.js';
import { RpcDiscoverRpc } from './rpc-discover.rpc.js';
import { RpcDispatcher } from './rpc-dispatcher.js';
import { RpcMethodRegistry } from './rpc-method.registry.js';
import { RpcStatsService } from './rpc-stats.service.js';
import { RpcController } from './rpc.controller.js';
import { RpcGateway } from './rpc.gateway.js';

/** The JSON-RPC engine: method table, dispatcher, and the HTTP and WebSocket transports. */
@Module({
  imports: [DiscoveryModule],
  controllers: [RpcController],
  providers: [
    RpcMethodRegistry,
    RpcDispatcher,
    RpcStatsService,
    OpenRpcService,
    RpcDiscoverRpc,
    RpcGateway,
    WsConnectionRegistry,
  ],
  exports: [RpcMethodRegistry, RpcDispatcher, RpcStatsService, WsConnectionRegistry, RpcGateway],
})
export class RpcModule {}
