import { Global, Module } from '@nestjs/common';
import { RpcModule } from '../rpc/rpc.module.js';
import { EVENT_BUS } from './event-bus.js';
import { InProcessEventBus } from './in-process.event-bus.js';
import { WsEventRelay } from './ws-event.relay.js';

/**
 * The event bus (in process; a Redis bus will replace the provider when `redis.url` is set)
 * and its relay to WebSocket subscribers. Global: any feature may publish.
 */
@Global()
@Module({
  imports: [RpcModule],
  providers: [{ provide: EVENT_BUS, useClass: InProcessEventBus }, WsEventRelay],
  exports: [EVENT_BUS],
})
export class EventsModule {}
