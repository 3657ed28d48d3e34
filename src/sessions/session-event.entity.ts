import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';

import { SessionEntity } from './session.entity.js';

/**
 * One event of a session's append-only log. `(session_key, seq)` is unique and is the index
 * that history paging walks; `(session_key, idempotency_key)` is unique too, indexed only where
 * there is a key (most events have none, and need no entry there).
 */
@Entity({ name: 'session_events' })
@Index('UQ_session_events_session_seq', ['sessionKey', 'seq'], { unique: true })
@Index('UQ_session_events_session_idempotency', ['sessionKey', 'idempotencyKey'], {
  unique: true,
  where: '"idempotency_key" IS NOT NULL',
})
export class SessionEventEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'integer' })
  id: number;

  @Column({ name: 'session_key', type: 'varchar', length: 64 })
  sessionKey: string;

  @ManyToOne(() => SessionEntity, { onDelete: 'NO ACTION', onUpdate: 'NO ACTION', nullable: false })
  @JoinColumn({
    name: 'session_key',
    referencedColumnName: 'sessionKey',
    foreignKeyConstraintName: 'FK_session_events_session',
  })
  session?: SessionEntity;

  @Column({ name: 'seq', type: 'integer' })
  seq: number;

  @Column({ name: 'type', type: 'varchar', length: 64 })
  type: string;

  /** JSON object, as text. */
  @Column({ name: 'data', type: 'text' })
  data: string;

  @Column({ name: 'at', type: 'varchar', length: 32 })
  at: string;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 255, nullable: true })
  idempotencyKey: string | null;

  /** The event's link in its session's hash chain (chain-hash.ts); null only before the backfill. */
  @Column({ name: 'hash', type: 'varchar', length: 64, nullable: true })
  hash: string | null;
}
