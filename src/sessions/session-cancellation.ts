import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EVENT_BUS, type EventBus } from '../core/events/event-bus.js';
import { SessionWorkTracker } from './session-work.tracker.js';

/** Every instance listens here; cancellations are rare, so one topic for all sessions is enough. */
const CONTROL_TOPIC = 'control:sessions';
const CANCEL = 'session.cancel';

/**
 * Stops a session's running work on whichever instance runs it: a cancellation is published on
 * the bus, and every instance (this one synchronously) aborts what it runs for that session.
 */
@Injectable()
export class SessionCancellation implements OnModuleInit, OnModuleDestroy {
  private stop?: () => void;

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly work: SessionWorkTracker,
  ) {}

  onModuleInit(): void {
    this.stop = this.bus.subscribe(CONTROL_TOPIC, (message) => {
      const { sessionKey, reason } = message.params;
      if (message.method !== CANCEL || typeof sessionKey !== 'string') return;
      void this.work.stop(
        sessionKey,
        new Error(typeof reason === 'string' ? reason : 'cancelled'),
        0,
      );
    });
  }

  onModuleDestroy(): void {
    this.stop?.();
  }

  cancelEverywhere(sessionKey: string, reason: string): void {
    this.bus.publish(CONTROL_TOPIC, { method: CANCEL, params: { sessionKey, reason } });
  }
}
