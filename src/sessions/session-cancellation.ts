import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EVENT_BUS, type EventBus } from '../core/events/event-bus.js';
import { SessionWorkTracker } from './session-work.tracker.js';

/** Every instance listens here; cancellations are rare, so one topic for all sessions is enough. */
const CONTROL_TOPIC = 'control:sessions';
/** Stops all of a session's work (session.end). */
const CANCEL = 'session.cancel';
/** Stops the one turn running under a given lease (session.cancel). */
const CANCEL_TURN = 'session.cancelTurn';

/** Why a turn stopped when session.cancel stopped it. */
export const TURN_CANCELLED = 'turn cancelled by session.cancel';

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
      const { sessionKey, reason, leaseToken } = message.params;
      if (typeof sessionKey !== 'string') return;
      if (message.method === CANCEL) {
        void this.work.stop(
          sessionKey,
          new Error(typeof reason === 'string' ? reason : 'cancelled'),
          0,
        );
      } else if (message.method === CANCEL_TURN && typeof leaseToken === 'number') {
        void this.work.cancelTurn(sessionKey, new Error(TURN_CANCELLED), 0, leaseToken);
      }
    });
  }

  onModuleDestroy(): void {
    this.stop?.();
  }

  cancelEverywhere(sessionKey: string, reason: string): void {
    this.bus.publish(CONTROL_TOPIC, { method: CANCEL, params: { sessionKey, reason } });
  }

  /**
   * Stops the turn that runs under the session's lease `leaseToken`, wherever it runs. Keyed by
   * the lease's fencing token, so a message that arrives late never stops the next turn.
   */
  cancelTurnEverywhere(sessionKey: string, leaseToken: number): void {
    this.bus.publish(CONTROL_TOPIC, { method: CANCEL_TURN, params: { sessionKey, leaseToken } });
  }
}
