import { Module } from '@nestjs/common';
import { LiveSeriesModule } from '../live-series/live-series.module.js';
import { RpcModule } from '../rpc/rpc.module.js';
import { WsConnectionRegistry } from './ws-connection.registry.js';
import { RpcGateway } from './ws-rpc.gateway.js';

/**
 * The WebSocket transport: /ws frames into the dispatcher, replies and pushed events back out.
 * Authentication and limits at the upgrade come from the (global) auth and rate-limit modules.
 */
@Module({
  imports: [RpcModule, LiveSeriesModule],
  providers: [RpcGateway, WsConnectionRegistry],
  exports: [RpcGateway, WsConnectionRegistry],
})
export class WsModule {}
