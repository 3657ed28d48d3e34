import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type SelectQueryBuilder } from 'typeorm';
import { TokenUsageTotalEntity } from './token-usage-total.entity.js';
import { TokenUsageEntity } from './token-usage.entity.js';
import type { TokenTotals, TurnUsage } from './usage.types.js';

/** What the sums filter on; every filter is served by an index of `token_usage`. */
export interface UsageFilter {
  sessionKey?: string;
  subject?: string;
  agentId?: string;
  /** Epoch ms, inclusive. */
  since?: number;
}

/** Totals of one agent or subject in one time bucket. */
export interface UsageBucketRow extends TokenTotals {
  key: string;
  /** Epoch ms: the bucket's start. */
  bucket: number;
}

type RawTotals = { input: unknown; output: unknown; total: unknown };

/**
 * The `token_usage` table: one row per answered turn, written once (a second record of the same
 * `message.agent` is ignored), summed on demand; and `token_usage_totals`, which a trigger keeps
 * in step with every new row, for all-time totals. The same SQL serves SQLite and PostgreSQL; sums
 * come back as strings from PostgreSQL (bigint), hence the Number() on the way out.
 */
@Injectable()
export class TokenUsageStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Inserts the turn's row; false when it was there already (nothing is counted twice). */
  async record(usage: TurnUsage): Promise<boolean> {
    const postgres = this.dataSource.options.type === 'postgres';
    const slots = Array.from({ length: 8 }, (_, i) => (postgres ? `$${i + 1}` : '?')).join(', ');
    // Both engines speak ON CONFLICT … RETURNING: a row back means this call inserted it.
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO "token_usage" ("session_key", "seq", "subject", "agent_id", "at", "input_tokens", "output_tokens", "total_tokens")
       VALUES (${slots}) ON CONFLICT DO NOTHING RETURNING "seq"`,
      [
        usage.sessionKey,
        usage.seq,
        usage.subject,
        usage.agentId,
        String(usage.at),
        usage.inputTokens,
        usage.outputTokens,
        usage.totalTokens,
      ],
    );
    return rows.length > 0;
  }

  /** Every token ever recorded, or one agent's: from the running totals, a few rows a day. */
  async lifetimeTotals(agentId?: string): Promise<TokenTotals> {
    let query = withTotals(this.lifetime());
    if (agentId !== undefined) query = query.where('t.agent_id = :agentId', { agentId });
    return toTotals(await query.getRawOne<RawTotals>());
  }

  /** All-time totals per agent or per subject, largest first, at most `limit` groups. */
  async lifetimeGrouped(
    by: 'agent' | 'subject',
    limit = 1000,
  ): Promise<Array<TokenTotals & { key: string }>> {
    return topGroups(this.lifetime(), by === 'agent' ? 't.agent_id' : 't.subject', limit);
  }

  async totals(filter: UsageFilter = {}): Promise<TokenTotals> {
    const raw = await withTotals(this.filtered(filter)).getRawOne<RawTotals>();
    return toTotals(raw);
  }

  /** Totals grouped by agent or by subject, largest first, at most `limit` groups. */
  async grouped(
    by: 'agent' | 'subject',
    filter: UsageFilter = {},
    limit = 1000,
  ): Promise<Array<TokenTotals & { key: string }>> {
    return topGroups(this.filtered(filter), by === 'agent' ? 'u.agent_id' : 'u.subject', limit);
  }

  /**
   * Totals per (agent or subject, time bucket) since `since`; `keys` limits the groups (the top
   * subjects), the rest are left out. `bucketMs` is a validated integer, so it is written inline:
   * integer division buckets alike on both engines.
   */
  async series(
    by: 'agent' | 'subject',
    since: number,
    bucketMs: number,
    keys?: readonly string[],
  ): Promise<UsageBucketRow[]> {
    if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0) throw new Error('bad bucket');
    const column = by === 'agent' ? 'u.agent_id' : 'u.subject';
    const bucket = `(u.at / ${bucketMs}) * ${bucketMs}`;
    let query = withTotals(this.filtered({ since }))
      .addSelect(column, 'key')
      .addSelect(bucket, 'bucket')
      .groupBy(column)
      .addGroupBy(bucket)
      .orderBy('bucket', 'ASC')
      .addOrderBy(column, 'ASC');
    if (keys !== undefined) {
      if (keys.length === 0) return [];
      query = query.andWhere(`${column} IN (:...keys)`, { keys });
    }
    const rows = await query.getRawMany<RawTotals & { key: string; bucket: unknown }>();
    return rows.map((row) => ({ key: row.key, bucket: Number(row.bucket), ...toTotals(row) }));
  }

  private lifetime(): SelectQueryBuilder<TokenUsageTotalEntity> {
    return this.dataSource.getRepository(TokenUsageTotalEntity).createQueryBuilder('t');
  }

  private filtered(filter: UsageFilter): SelectQueryBuilder<TokenUsageEntity> {
    let query = this.dataSource.getRepository(TokenUsageEntity).createQueryBuilder('u');
    if (filter.sessionKey !== undefined) {
      query = query.andWhere('u.session_key = :sessionKey', { sessionKey: filter.sessionKey });
    }
    if (filter.subject !== undefined) {
      query = query.andWhere('u.subject = :subject', { subject: filter.subject });
    }
    if (filter.agentId !== undefined) {
      query = query.andWhere('u.agent_id = :agentId', { agentId: filter.agentId });
    }
    if (filter.since !== undefined) {
      query = query.andWhere('u.at >= :since', { since: String(filter.since) });
    }
    return query;
  }
}

/** The three sums, over the query's alias (`u` for turns, `t` for running totals). */
function withTotals<T extends object>(query: SelectQueryBuilder<T>): SelectQueryBuilder<T> {
  const a = query.alias;
  return query
    .select(`COALESCE(SUM(${a}.input_tokens), 0)`, 'input')
    .addSelect(`COALESCE(SUM(${a}.output_tokens), 0)`, 'output')
    .addSelect(`COALESCE(SUM(${a}.total_tokens), 0)`, 'total');
}

/** A totals query grouped by `column`: largest first, at most `limit` groups. */
async function topGroups<T extends object>(
  query: SelectQueryBuilder<T>,
  column: string,
  limit: number,
): Promise<Array<TokenTotals & { key: string }>> {
  // LIMIT 0 would read as "no limit" to the query builder: none asked is none answered.
  if (limit <= 0) return [];
  const rows = await withTotals(query)
    .addSelect(column, 'key')
    .groupBy(column)
    .orderBy('total', 'DESC')
    .addOrderBy(column, 'ASC')
    .limit(limit)
    .getRawMany<RawTotals & { key: string }>();
  return rows.map((row) => ({ key: row.key, ...toTotals(row) }));
}

function toTotals(raw: RawTotals | undefined): TokenTotals {
  return {
    inputTokens: Number(raw?.input ?? 0),
    outputTokens: Number(raw?.output ?? 0),
    totalTokens: Number(raw?.total ?? 0),
  };
}
