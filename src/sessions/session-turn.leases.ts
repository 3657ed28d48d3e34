import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { EVENT_BUS, type EventBus } from '../core/events/event-bus.js';
import type { AppendFence } from './event-store.js';
import { SessionLeaseStore, type SessionLease } from './session-lease.store.js';
import { SessionTurnTimeoutException } from './session.exception.js';

/** A turn's hold on its session. */
export interface HeldTurnLease {
  /** What the turn's appends must still hold; none on one instance (SQLite). */
  readonly fence?: AppendFence;
  /** The fence of the turn's last append, which frees the lease in the same statement. */
  readonly closing?: AppendFence;
  /** The session's newest seq when the lease was taken (read in the same statement). */
  readonly lastSeq?: number;
  /** The last append succeeded: the lease is already free, `release` only announces it. */
  freed(): void;
  /** Aborted when the lease was lost (renewal failed past its expiry, or it was taken over). */
  readonly lost: AbortSignal;
  /** Frees the lease and wakes instances waiting for it. */
  release(): Promise<void>;
}

const RELEASED = 'lease.released';
const leaseTopic = (sessionKey: string): string => `lease:${sessionKey}`;
const NEVER = new AbortController().signal;

/**
 * One turn at a time per session across instances. On PostgreSQL a turn first takes the
 * session's lease (waiting, up to `sessions.turnWaitTimeout`, while another instance holds it),
 * renews it every third of `sessions.leaseTtl` while it runs, and fences each append with it; an
 * instance that crashed mid-turn stops renewing, so its lease expires and the session goes on
 * elsewhere. On SQLite, which serves one instance, the in-process turn queue is enough.
 */
@Injectable()
export class SessionTurnLeases implements OnModuleDestroy {
  private readonly logger = new Logger('SessionLeases');
  /** Leases are kept between instances (PostgreSQL); on SQLite, one instance needs none. */
  readonly distributed: boolean;
  /** Unique per process even when two instances were given the same instance id. */
  readonly owner: string;
  private readonly held = new Set<() => Promise<void>>();

  constructor(
    private readonly store: SessionLeaseStore,
    dataSource: DataSource,
    private readonly config: GatewayConfig,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {
    this.distributed = dataSource.options.type === 'postgres';
    this.owner = `${config.instanceId ?? 'gateway'}:${randomUUID().slice(0, 8)}`;
  }

  /** Frees what this instance still holds, so that others need not wait for expiry. */
  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.held].map((release) => release()));
  }

  /**
   * Takes the session's lease, waiting while another instance holds it; throws
   * SessionTurnTimeoutException after `sessions.turnWaitTimeout`, or the signal's reason.
   */
  async hold(sessionKey: string, signal?: AbortSignal): Promise<HeldTurnLease> {
    if (!this.distributed) {
      // A message cancelled while it waited in the queue never runs.
      signal?.throwIfAborted();
      return { lost: NEVER, freed: () => undefined, release: () => Promise.resolve() };
    }
    const { leaseTtl, turnWaitTimeout } = this.config.sessions;
    const startedAt = Date.now();
    for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
      signal?.throwIfAborted();
      const lease = await this.store.acquire(sessionKey, this.owner, leaseTtl);
      if (lease) return this.keep(lease, leaseTtl);
      const left = startedAt + turnWaitTimeout - Date.now();
      if (left <= 0) throw new SessionTurnTimeoutException(sessionKey, Date.now() - startedAt);
      // The holder announces its release; polling covers a lost message and a crashed holder.
      await this.released(sessionKey, Math.min(delay, left), signal);
    }
  }

  /** Renews the lease in the background until released, and notices when it is lost. */
  private keep(lease: SessionLease, ttl: number): HeldTurnLease {
    const lost = new AbortController();
    let renewedAt = Date.now();
    const renew = async (): Promise<void> => {
      try {
        if (await this.store.renew(lease, ttl)) renewedAt = Date.now();
        else lost.abort(new Error('turn lease taken over'));
      } catch (err) {
        // The database may come back before the lease expires; past that, it is gone.
        if (Date.now() - renewedAt >= ttl) lost.abort(new Error('turn lease expired'));
        this.logger.warn({ err: { message: (err as Error).message } }, 'lease renewal failed');
      }
    };
    const timer = setInterval(() => void renew(), Math.max(50, Math.floor(ttl / 3)));
    timer.unref();
    let released: Promise<void> | undefined;
    let freedByAppend = false;
    const release = (): Promise<void> => {
      released ??= (async () => {
        clearInterval(timer);
        this.held.delete(release);
        try {
          if (!lost.signal.aborted && !freedByAppend) await this.store.release(lease);
        } catch (err) {
          this.logger.warn({ err: { message: (err as Error).message } }, 'lease release failed');
        }
        this.bus.publish(leaseTopic(lease.sessionKey), { method: RELEASED, params: {} });
      })();
      return released;
    };
    this.held.add(release);
    const fence = { owner: lease.owner, token: lease.token };
    return {
      fence,
      closing: { ...fence, release: true },
      lastSeq: lease.lastSeq,
      freed: () => {
        freedByAppend = true;
        clearInterval(timer);
      },
      lost: lost.signal,
      release,
    };
  }

  private released(sessionKey: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        stop();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const stop = this.bus.subscribe(leaseTopic(sessionKey), done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
