import 'reflect-metadata';
import { afterEach, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { postgresUrl, reportMissingPostgres } from '../../test/support/databases.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { buildDataSourceOptions, DATABASE_MIGRATIONS } from '../core/database/database-url.js';
import { TokenUsage1795910000000 } from '../core/database/migrations/1795910000000-token-usage.js';
import { BudgetExceededException } from './budget-exceeded.exception.js';
import { BudgetService } from './budget.service.js';
import { TokenUsageStore } from './token-usage.store.js';
import { USAGE_ENTITIES } from './usage.entities.js';
import { UsageClock } from './usage-clock.js';
import type { TurnUsage } from './usage.types.js';

const engines: Array<[string, () => Promise<string | undefined>]> = [
  ['SQLite', () => Promise.resolve('sqlite::memory:')],
  ['PostgreSQL', postgresUrl],
];

const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-01T00:00:00.000Z');

class FixedClock extends UsageClock {
  constructor(public at: number) {
    super();
  }
  now(): number {
    return this.at;
  }
}

function turn(seq: number, tokens: number, extra: Partial<TurnUsage> = {}): TurnUsage {
  return {
    sessionKey: 's1',
    seq,
    subject: 'alice',
    agentId: 'llm',
    at: T0,
    inputTokens: tokens - 1,
    outputTokens: 1,
    totalTokens: tokens,
    ...extra,
  };
}

function configWith(budgets: Record<string, unknown>): GatewayConfig {
  return Object.assign(new GatewayConfig(), { budgets });
}

describe.each(engines)('token usage on %s', (engine, url) => {
  let dataSource: DataSource | undefined;
  afterEach(() => dataSource?.destroy());

  async function open(): Promise<DataSource | undefined> {
    const resolved = await url();
    if (resolved === undefined) {
      reportMissingPostgres(`token usage on ${engine}`);
      return undefined;
    }
    dataSource = new DataSource(buildDataSourceOptions(resolved, { entities: USAGE_ENTITIES }));
    await dataSource.initialize();
    return dataSource;
  }

  it('migrates to a table matching the entity, and back down', async () => {
    const db = await open();
    if (!db) return;
    const drift = await db.driver.createSchemaBuilder().log();
    expect(drift.upQueries.map((q) => q.query)).toEqual([]);
    // Down through this migration, undoing the ones that came after it first.
    const later = DATABASE_MIGRATIONS.length - DATABASE_MIGRATIONS.indexOf(TokenUsage1795910000000);
    for (let i = 0; i < later; i++) await db.undoLastMigration();
    const runner = db.createQueryRunner();
    try {
      expect(await runner.hasTable('token_usage')).toBe(false);
      expect(await runner.hasTable('token_usage_totals')).toBe(false);
      expect(await runner.hasTable('sessions')).toBe(true);
    } finally {
      await runner.release();
    }
  });

  it('records a turn once however often it is recorded, and sums by session, subject, agent and time', async () => {
    const db = await open();
    if (!db) return;
    const store = new TokenUsageStore(db);
    expect(await store.record(turn(3, 100))).toBe(true);
    expect(await store.record(turn(3, 100))).toBe(false);
    await store.record(turn(5, 50, { at: T0 + HOUR }));
    await store.record(turn(2, 7, { sessionKey: 's2', subject: 'bob', agentId: 'other' }));

    expect(await store.totals({ sessionKey: 's1' })).toEqual({
      inputTokens: 148,
      outputTokens: 2,
      totalTokens: 150,
    });
    expect((await store.totals({ subject: 'alice', since: T0 + HOUR })).totalTokens).toBe(50);
    expect((await store.totals({ subject: 'alice', agentId: 'other' })).totalTokens).toBe(0);
    expect((await store.totals()).totalTokens).toBe(157);
    expect(await store.grouped('subject', {}, 1)).toEqual([
      { key: 'alice', inputTokens: 148, outputTokens: 2, totalTokens: 150 },
    ]);
    expect(await store.series('agent', T0, HOUR)).toEqual([
      { key: 'llm', bucket: T0, inputTokens: 99, outputTokens: 1, totalTokens: 100 },
      { key: 'other', bucket: T0, inputTokens: 6, outputTokens: 1, totalTokens: 7 },
      { key: 'llm', bucket: T0 + HOUR, inputTokens: 49, outputTokens: 1, totalTokens: 50 },
    ]);
    expect(await store.series('subject', T0, HOUR, ['bob'])).toEqual([
      { key: 'bob', bucket: T0, inputTokens: 6, outputTokens: 1, totalTokens: 7 },
    ]);
  });

  it('keeps running totals equal to the rows, under concurrent and repeated records', async () => {
    const db = await open();
    if (!db) return;
    const store = new TokenUsageStore(db);
    const records = Array.from({ length: 60 }, (_, i) =>
      turn(i % 40, 10 + (i % 40), {
        sessionKey: `s${i % 40 < 20 ? 1 : 2}`,
        subject: i % 3 === 0 ? 'bob' : 'alice',
        agentId: i % 2 === 0 ? 'a' : 'b',
        at: T0 + (i % 40) * 3 * HOUR,
      }),
    );
    const inserted = await Promise.all(records.map((r) => store.record(r)));
    expect(inserted.filter(Boolean)).toHaveLength(40);

    expect(await store.lifetimeTotals()).toEqual(await store.totals());
    expect(await store.lifetimeTotals('a')).toEqual(await store.totals({ agentId: 'a' }));
    expect(await store.lifetimeGrouped('subject')).toEqual(await store.grouped('subject'));
    expect(await store.lifetimeGrouped('agent', 1)).toEqual(await store.grouped('agent', {}, 1));
    expect(await store.lifetimeGrouped('subject', 0)).toEqual([]);
    expect(await store.grouped('subject', {}, 0)).toEqual([]);
    // Totals are kept per UTC day: 40 turns 3 hours apart span 5 days.
    const days = await db.query(`SELECT DISTINCT "day" FROM "token_usage_totals"`);
    expect(days).toHaveLength(5);
  });

  it('refuses at the limit, allows at limit - 1, and resets at the window boundary', async () => {
    const db = await open();
    if (!db) return;
    const store = new TokenUsageStore(db);
    const clock = new FixedClock(T0 + 30 * 60_000);
    const budgets = new BudgetService(
      store,
      configWith({ subject: { tokens: 100, window: HOUR } }),
      clock,
    );
    const scope = { sessionKey: 's1', subject: 'alice', agentId: 'llm' };

    await store.record(turn(1, 99, { at: clock.at }));
    expect(await budgets.remaining(scope)).toBe(1);
    await store.record(turn(2, 1, { at: clock.at }));
    const refused = await budgets.remaining(scope).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BudgetExceededException);
    expect((refused as BudgetExceededException).data).toEqual({
      budget: 'subject',
      used: 100,
      limit: 100,
      resetAt: '2026-03-01T01:00:00.000Z',
    });

    // One millisecond before the boundary the window still holds; at it, the budget is whole.
    clock.at = T0 + HOUR - 1;
    await expect(budgets.remaining(scope)).rejects.toBeInstanceOf(BudgetExceededException);
    clock.at = T0 + HOUR;
    expect(await budgets.remaining(scope)).toBe(100);
  });

  it('takes the tightest budget, and an agent budget replaces the global one for its turns', async () => {
    const db = await open();
    if (!db) return;
    const store = new TokenUsageStore(db);
    const budgets = new BudgetService(
      store,
      configWith({ session: { tokens: 1000 }, subject: { tokens: 60 } }),
      new FixedClock(T0),
    );
    await store.record(turn(1, 40));
    await store.record(turn(1, 15, { sessionKey: 's2', agentId: 'big' }));
    const scope = { sessionKey: 's1', subject: 'alice', agentId: 'llm' };
    expect(await budgets.remaining(scope)).toBe(5);
    // Its own subject budget counts only its own turns (15 of 20).
    expect(
      await budgets.remaining({
        ...scope,
        sessionKey: 's2',
        agentId: 'big',
        agentBudgets: { subject: { tokens: 20 } },
      }),
    ).toBe(5);
    await expect(
      budgets.remaining({ ...scope, agentBudgets: { session: { tokens: 40 } } }),
    ).rejects.toMatchObject({ data: { budget: 'session', used: 40, limit: 40 } });
    const none = new BudgetService(store, configWith({}), new FixedClock(T0));
    expect(await none.remaining(scope)).toBeUndefined();
  });
});
