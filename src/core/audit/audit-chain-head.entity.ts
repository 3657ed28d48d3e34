import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The security audit chain's head: one row (id 1), locked by every append (FOR UPDATE on
 * PostgreSQL) so that instances appending at once still build one chain.
 */
@Entity({ name: 'audit_chain_head' })
export class AuditChainHeadEntity {
  @PrimaryColumn({ name: 'id', type: 'integer' })
  id: number;

  @Column({ name: 'last_seq', type: 'integer' })
  lastSeq: number;

  @Column({ name: 'last_hash', type: 'varchar', length: 64 })
  lastHash: string;
}
