import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The tokens of one answered turn: one row per `message.agent` (its session and seq), so that
 * recording it twice (a retry, a takeover) counts it once. `at` is epoch milliseconds, which both
 * engines compare and bucket alike; the indexes serve the budget sums (a subject's tokens since
 * the window started, optionally on one agent) and time ranges (usage.summary).
 */
@Entity({ name: 'token_usage' })
@Index('IDX_token_usage_subject_at', ['subject', 'at'])
@Index('IDX_token_usage_agent_at', ['agentId', 'at'])
@Index('IDX_token_usage_at', ['at'])
export class TokenUsageEntity {
  @PrimaryColumn({
    name: 'session_key',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'PK_token_usage',
  })
  sessionKey: string;

  @PrimaryColumn({ name: 'seq', type: 'integer', primaryKeyConstraintName: 'PK_token_usage' })
  seq: number;

  @Column({ name: 'subject', type: 'varchar', length: 255 })
  subject: string;

  @Column({ name: 'agent_id', type: 'varchar', length: 255 })
  agentId: string;

  @Column({ name: 'at', type: 'bigint' })
  at: string;

  @Column({ name: 'input_tokens', type: 'integer' })
  inputTokens: number;

  @Column({ name: 'output_tokens', type: 'integer' })
  outputTokens: number;

  @Column({ name: 'total_tokens', type: 'integer' })
  totalTokens: number;
}
