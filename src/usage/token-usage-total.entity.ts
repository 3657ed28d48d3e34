import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Running totals per UTC day, agent and subject, kept in the same transaction as each
 * `token_usage` row (only when that row was new): all-time totals (agent.status, /status) read
 * these few rows instead of summing every turn ever answered.
 */
@Entity({ name: 'token_usage_totals' })
@Index('IDX_token_usage_totals_agent', ['agentId', 'day'])
export class TokenUsageTotalEntity {
  /** Epoch ms of the UTC day's start. */
  @PrimaryColumn({ name: 'day', type: 'bigint', primaryKeyConstraintName: 'PK_token_usage_totals' })
  day: string;

  @PrimaryColumn({
    name: 'agent_id',
    type: 'varchar',
    length: 255,
    primaryKeyConstraintName: 'PK_token_usage_totals',
  })
  agentId: string;

  @PrimaryColumn({
    name: 'subject',
    type: 'varchar',
    length: 255,
    primaryKeyConstraintName: 'PK_token_usage_totals',
  })
  subject: string;

  @Column({ name: 'input_tokens', type: 'bigint' })
  inputTokens: string;

  @Column({ name: 'output_tokens', type: 'bigint' })
  outputTokens: string;

  @Column({ name: 'total_tokens', type: 'bigint' })
  totalTokens: string;
}
