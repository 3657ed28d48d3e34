import { Injectable } from '@nestjs/common';
import { SessionCancellation, TURN_CANCELLED } from './session-cancellation.js';
import { SessionLeaseStore } from './session-lease.store.js';
import { SessionTurnLeases } from './session-turn.leases.js';
import { SessionWorkTracker } from './session-work.tracker.js';

/**
 * How long session.cancel waits for the stopped turn to record its cancelled answer. Agents stop
 * promptly when aborted; past this the answer still comes, just after session.cancel's.
 */
const CANCEL_GRACE_MS = 5_000;

/**
 * session.cancel: stops the session's running turn wherever it runs. Here, the turn is found in
 * the work tracker; elsewhere (PostgreSQL), the session's live lease names the turn by its fencing
 * token, and the instance holding it stops it on the bus message. Either way the answer comes once
 * the turn has recorded its cancelled `message.agent` and freed the session (or after the grace),
 * so a message sent next runs at once.
 */
@Injectable()
export class SessionTurnCanceller {
  constructor(
    private readonly work: SessionWorkTracker,
    private readonly cancellation: SessionCancellation,
    private readonly leases: SessionTurnLeases,
    private readonly leaseStore: SessionLeaseStore,
  ) {}

  /** True when a turn was running and was told to stop. */
  async cancel(sessionKey: string): Promise<boolean> {
    if (await this.work.cancelTurn(sessionKey, new Error(TURN_CANCELLED), CANCEL_GRACE_MS)) {
      return true;
    }
    if (!this.leases.distributed) return false;
    const lease = await this.leaseStore.holder(sessionKey);
    // Our own lease without a running turn here is session.end's, not a turn's.
    if (lease === undefined || lease.owner === this.leases.owner) return false;
    this.cancellation.cancelTurnEverywhere(sessionKey, lease.token);
    await this.leaseGone(sessionKey, lease.token, Date.now() + CANCEL_GRACE_MS);
    return true;
  }

  /** Waits (polling, with a deadline) until the lease `token` is no longer held. */
  private async leaseGone(sessionKey: string, token: number, deadline: number): Promise<void> {
    for (let delay = 10; Date.now() < deadline; delay = Math.min(delay * 2, 200)) {
      const holder = await this.leaseStore.holder(sessionKey);
      if (holder?.token !== token) return;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
