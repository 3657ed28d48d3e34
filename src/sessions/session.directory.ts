import { Injectable } from '@nestjs/common';
import { ADMIN_SCOPE, type Caller } from '../core/identity/caller.js';
import { EventStore } from './event-store.js';
import { SessionNotFoundException } from './session.exception.js';
import type { SessionRecord } from './session.types.js';
import { setNewest } from '../core/collections/bounded-map.js';

/** Sessions whose owner and agent are remembered, so a call need not read them again. */
const MAX_KNOWN_SESSIONS = 10_000;

/** What calls need to know about a session: whose it is, its agent, and whether it ended. */
export type KnownSession = Pick<
  SessionRecord,
  'sessionKey' | 'ownerSubject' | 'agentId' | 'status'
>;

/**
 * Who may see which session. Owner and agent never change, so they are remembered (bounded,
 * oldest first out); `status` may lag behind another instance's session.end, which every
 * append's own check (expectActive) catches and reports back through `markEnded`.
 */
@Injectable()
export class SessionDirectory {
  private readonly known = new Map<string, KnownSession>();

  constructor(private readonly store: EventStore) {}

  /** The session if the caller may see it; anyone else's is reported as not existing. */
  async owned(caller: Caller, sessionKey: string): Promise<KnownSession> {
    let session = this.known.get(sessionKey);
    if (!session) {
      const record = await this.store.getSession(sessionKey);
      if (!record) throw new SessionNotFoundException(sessionKey);
      session = {
        sessionKey,
        ownerSubject: record.ownerSubject,
        agentId: record.agentId,
        status: record.status,
      };
      this.remember(session);
    }
    if (session.ownerSubject !== caller.subject && !caller.scopes.has(ADMIN_SCOPE)) {
      throw new SessionNotFoundException(sessionKey);
    }
    return session;
  }

  remember(session: KnownSession): void {
    setNewest(this.known, session.sessionKey, session, MAX_KNOWN_SESSIONS);
  }

  markEnded(sessionKey: string): void {
    const known = this.known.get(sessionKey);
    if (known) known.status = 'ended';
  }
}
