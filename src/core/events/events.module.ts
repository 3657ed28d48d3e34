import { Global, Module, type Provider } from '@nestjs/common';
import { GatewayConfig } from '../config/gateway-config.js';
import { WsModule } from '../ws/ws.module.js';
import { ClusteredEventBus } from './clustered.event-bus.js';
import { EVENT_BUS, type EventBus } from './event-bus.js';
import { InProcessEventBus } from './in-process.event-bus.js';
import { WsEventRelay } from './ws-event.relay.js';

/**
 * The bus fits the deployment: Redis pub/sub when `redis.url` is set, PostgreSQL LISTEN/NOTIFY
 * when the event log is on PostgreSQL (any instance may join at any time, so a PostgreSQL
 * gateway always speaks to its peers), and in process on SQLite, which serves one instance.
 * A transport's client library (ioredis, pg) is imported only when that transport is chosen.
 */
export async function createEventBus(config: GatewayConfig): Promise<EventBus> {
  if (config.redis.url) {
    const { RedisBusTransport } = await import('./redis.bus-transport.js');
    return new ClusteredEventBus(new RedisBusTransport({ url: config.redis.url }));
  }
  if (/^postgres(ql)?:\/\//.test(config.database.url)) {
    const { PostgresBusTransport } = await import('./postgres.bus-transport.js');
    return new ClusteredEventBus(new PostgresBusTransport({ url: config.database.url }));
  }
  return new InProcessEventBus();
}

const busProvider: Provider = {
  provide: EVENT_BUS,
  inject: [GatewayConfig],
  useFactory: createEventBus,
};

/** The event bus and its relay to WebSocket subscribers. Global: any feature may publish. */
@Global()
@Module({
  imports: [WsModule],
  providers: [busProvider, WsEventRelay],
  exports: [EVENT_BUS],
})
export class EventsModule {}
