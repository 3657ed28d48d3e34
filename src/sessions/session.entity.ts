import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

import type { SessionStatus } from './session.types.js';

/**
 * A session row: who owns it, which agent runs it, and the seq of its newest event.
 * Timestamps are ISO 8601 UTC strings so that SQLite and PostgreSQL store and sort them alike.
 */
@Entity({ name: 'sessions' })
@Index('IDX_sessions_owner_created', ['ownerSubject', 'createdAt', 'sessionKey'])
@Index('IDX_sessions_created', ['createdAt', 'sessionKey'])
export class SessionEntity {
  @PrimaryColumn({ name: 'session_key', type: 'varchar', length: 64 })
  sessionKey: string;

  @Column({ name: 'owner_subject', type: 'varchar', length: 255 })
  ownerSubject: string;

  @Column({ name: 'agent_id', type: 'varchar', length: 255 })
  agentId: string;

  /** JSON object, as text. */
  @Column({ name: 'metadata', type: 'text' })
  metadata: string;

  @Column({ name: 'status', type: 'varchar', length: 16 })
  status: SessionStatus;

  @Column({ name: 'last_seq', type: 'integer' })
  lastSeq: number;

  /** The hash of the event `last_seq`: the chain head the next append links to. */
  @Column({ name: 'last_hash', type: 'varchar', length: 64, nullable: true })
  lastHash: string | null;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt: string;

  @Column({ name: 'ended_at', type: 'varchar', length: 32, nullable: true })
  endedAt: string | null;

  /** The instance running a turn of the session (several instances), while it holds the lease. */
  @Column({ name: 'lease_owner', type: 'varchar', length: 200, nullable: true })
  leaseOwner: string | null;

  /** Fencing token: one more at every acquisition; appends of a turn carry the one they hold. */
  @Column({ name: 'lease_token', type: 'bigint', default: 0 })
  leaseToken: string;

  /** Epoch milliseconds (the database's clock on PostgreSQL). */
  @Column({ name: 'lease_expires_at', type: 'bigint', nullable: true })
  leaseExpiresAt: string | null;
}
