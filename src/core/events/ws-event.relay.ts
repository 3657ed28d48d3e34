import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { WsConnectionRegistry } from '../ws/ws-connection.registry.js';
import { ALL_TOPICS, EVENT_BUS, type EventBus } from './event-bus.js';

/** Hands every bus message to the WebSocket connections subscribed to its topic. */
@Injectable()
export class WsEventRelay implements OnModuleInit, OnModuleDestroy {
  private stop?: () => void;

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly connections: WsConnectionRegistry,
  ) {}

  onModuleInit(): void {
    this.stop = this.bus.subscribe(ALL_TOPICS, (message, topic) => {
      this.connections.publish(topic, message.method, message.params);
    });
  }

  onModuleDestroy(): void {
    this.stop?.();
  }
}
