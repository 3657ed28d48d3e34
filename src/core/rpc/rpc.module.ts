import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { LiveSeriesModule } from '../live-series/live-series.module.js';
import { HttpErrorShapes } from './http-error-shapes.js';
import { OpenRpcService } from './openrpc.service.js';
import { RpcDiscoverRpc } from './rpc-discover.rpc.js';
import { RpcDispatcher } from './rpc-dispatcher.js';
import { RpcMethodRegistry } from './rpc-method.registry.js';
import { RpcPipelineCompiler } from './rpc-pipeline.compiler.js';
import { RpcStatsService } from './rpc-stats.service.js';
import { RpcController } from './rpc.controller.js';

/** The JSON-RPC engine: the method table compiled into call plans, the dispatcher, POST /rpc. */
@Module({
  imports: [DiscoveryModule, LiveSeriesModule],
  controllers: [RpcController],
  providers: [
    RpcPipelineCompiler,
    RpcMethodRegistry,
    RpcDispatcher,
    RpcStatsService,
    OpenRpcService,
    RpcDiscoverRpc,
    HttpErrorShapes,
  ],
  exports: [RpcMethodRegistry, RpcDispatcher, RpcStatsService, HttpErrorShapes],
})
export class RpcModule {}
