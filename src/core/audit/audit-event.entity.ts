import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One record of the security audit log, a link of its global hash chain: `seq` numbers the
 * chain (1, 2, …, no gaps) and `hash` covers the record and the previous record's hash
 * (chain-hash.ts auditRecordHash). Never holds a secret or a token.
 */
@Entity({ name: 'audit_events' })
@Index('IDX_audit_events_subject', ['subject', 'seq'])
@Index('IDX_audit_events_at', ['at'])
export class AuditEventEntity {
  @PrimaryColumn({ name: 'seq', type: 'integer' })
  seq: number;

  /** ISO 8601 UTC: when the act happened (the first of an aggregated run). */
  @Column({ name: 'at', type: 'varchar', length: 32 })
  at: string;

  @Column({ name: 'action', type: 'varchar', length: 64 })
  action: string;

  @Column({ name: 'outcome', type: 'varchar', length: 16 })
  outcome: string;

  @Column({ name: 'subject', type: 'varchar', length: 255, nullable: true })
  subject: string | null;

  @Column({ name: 'target', type: 'varchar', length: 255, nullable: true })
  target: string | null;

  @Column({ name: 'ip', type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  /** How many acts this record stands for (authentication failures are aggregated). */
  @Column({ name: 'count', type: 'integer', default: 1 })
  count: number;

  /** Canonical JSON object, or null. */
  @Column({ name: 'detail', type: 'text', nullable: true })
  detail: string | null;

  @Column({ name: 'hash', type: 'varchar', length: 64 })
  hash: string;
}
