import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl, reportMissingPostgres } from '../../../test/support/databases.js';
import { freePort } from '../../../test/support/process.js';
import { buildDataSourceOptions } from '../database/database-url.js';
import { PostgresRateLimitStore } from './postgres-rate-limit.store.js';
import { RateLimitStoreUnavailableError } from './rate-limit.store.js';

const url = await postgresUrl();
if (!url) reportMissingPostgres('PostgreSQL rate-limit store');

describe.skipIf(!url)('PostgresRateLimitStore', () => {
  let a: PostgresRateLimitStore;
  let b: PostgresRateLimitStore;

  beforeAll(async () => {
    // The migrations create the counters table.
    const dataSource = new DataSource(buildDataSourceOptions(url!));
    await dataSource.initialize();
    await dataSource.destroy();
    a = new PostgresRateLimitStore({ url: url! });
    b = new PostgresRateLimitStore({ url: url! });
  });

  afterAll(async () => {
    await a?.onModuleDestroy();
    await b?.onModuleDestroy();
  });

  it('counts exactly across two instances hitting one key at once', async () => {
    const hits = await Promise.all(
      Array.from({ length: 150 }, (_, i) => (i % 2 ? a : b).increment('client:sub:x', 60_000, 60)),
    );
    expect(hits.filter((record) => !record.isBlocked)).toHaveLength(60);
    expect(Math.max(...hits.map((record) => record.totalHits))).toBe(150);
    for (const record of hits) {
      expect(record.timeToExpireMs).toBeGreaterThan(55_000);
      expect(record.timeToExpireMs).toBeLessThanOrEqual(60_000);
    }
  });

  it('counts a batch with repeated keys in one statement, each caller its own exact count', async () => {
    const before = a.batcher.stats.statements;
    const keyA = Array.from({ length: 10 }, () => a.increment('client:sub:batch-a', 60_000, 4));
    const keyB = Array.from({ length: 3 }, () => a.increment('client:sub:batch-b', 60_000, 4));
    const [countsA, countsB] = await Promise.all([Promise.all(keyA), Promise.all(keyB)]);
    expect(a.batcher.stats.statements - before).toBe(1);
    expect(countsA.map((r) => r.totalHits)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(countsA.map((r) => r.isBlocked)).toEqual([
      ...Array(4).fill(false),
      ...Array(6).fill(true),
    ]);
    expect(countsB.map((r) => r.totalHits)).toEqual([1, 2, 3]);
  });

  it("starts a batch of repeated hits at 1 when the key's window is over", async () => {
    await a.increment('client:sub:batch-reset', 60_000, 100);
    await a.increment('client:sub:batch-reset', 60_000, 100);
    const admin = new pg.Client({ connectionString: url! });
    await admin.connect();
    try {
      await admin.query(
        `UPDATE "rate_limit_counters" SET "window_ends_at" = clock_timestamp() - interval '1 second'
         WHERE "key" = 'client:sub:batch-reset'`,
      );
    } finally {
      await admin.end();
    }
    const records = await Promise.all(
      Array.from({ length: 5 }, () => a.increment('client:sub:batch-reset', 60_000, 100)),
    );
    expect(records.map((r) => r.totalHits)).toEqual([1, 2, 3, 4, 5]);
    for (const record of records) expect(record.timeToExpireMs).toBeGreaterThan(55_000);
  });

  it('keeps counts exact when batches of two instances share keys, in any order', async () => {
    const keys = ['client:sub:mix-1', 'client:sub:mix-2', 'client:sub:mix-3'];
    const calls = Array.from({ length: 240 }, (_, i) =>
      (i % 2 ? a : b).increment(keys[(i * 7) % 3], 60_000, 1000),
    );
    const records = await Promise.all(calls);
    for (const key of keys) {
      const counts = records
        .filter((_, i) => keys[(i * 7) % 3] === key)
        .map((r) => r.totalHits)
        .sort((x, y) => x - y);
      expect(counts).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    }
  });

  it('counts a key hit with alternating window lengths in one statement per switch, in order', async () => {
    const before = a.batcher.stats.statements;
    const records = await Promise.all([
      a.increment('client:sub:two-windows', 60_000, 10),
      a.increment('client:sub:two-windows', 30_000, 10),
      a.increment('client:sub:two-windows', 60_000, 10),
    ]);
    expect(a.batcher.stats.statements - before).toBe(3);
    expect(records.map((r) => r.totalHits)).toEqual([1, 2, 3]);
  });

  it("counts a call's session hit only when its client hit is within the limit, both in one statement", async () => {
    const before = a.batcher.stats.statements;
    const client = { key: 'client:sub:pair', ttl: 60_000, limit: 3 };
    const pairs = await Promise.all(
      Array.from({ length: 5 }, () =>
        a.incrementPair(client, { key: 'session:sub:pair:s1', ttl: 60_000, limit: 2 }),
      ),
    );
    expect(a.batcher.stats.statements - before).toBe(1);
    expect(pairs.map(([first]) => first.totalHits)).toEqual([1, 2, 3, 4, 5]);
    expect(pairs.map(([first]) => first.isBlocked)).toEqual([false, false, false, true, true]);
    expect(pairs.map(([, second]) => second?.totalHits)).toEqual([1, 2, 3, undefined, undefined]);
    expect(pairs.map(([, second]) => second?.isBlocked)).toEqual([
      false,
      false,
      true,
      undefined,
      undefined,
    ]);
    // Three session hits were counted, not five.
    expect((await b.increment('session:sub:pair:s1', 60_000, 2)).totalHits).toBe(4);
  });

  it("keeps each key's order when a key is one call's first and another's second", async () => {
    const records = await Promise.all([
      a.incrementPair(
        { key: 'client:sub:cross', ttl: 60_000, limit: 100 },
        { key: 'session:sub:cross', ttl: 60_000, limit: 100 },
      ),
      a.increment('session:sub:cross', 60_000, 100),
      a.incrementPair(
        { key: 'client:sub:cross', ttl: 60_000, limit: 100 },
        { key: 'session:sub:cross', ttl: 60_000, limit: 100 },
      ),
    ]);
    expect(records[0].map((r) => r?.totalHits)).toEqual([1, 1]);
    expect(records[1].totalHits).toBe(2);
    expect(records[2].map((r) => r?.totalHits)).toEqual([2, 3]);
  });

  it('keeps paired counts exact across two instances counting the same keys at once', async () => {
    const sessions = ['session:sub:many:1', 'session:sub:many:2'];
    const calls = Array.from({ length: 200 }, (_, i) =>
      (i % 2 ? a : b).incrementPair(
        { key: 'client:sub:many', ttl: 60_000, limit: 150 },
        { key: sessions[i % 3 === 0 ? 0 : 1], ttl: 60_000, limit: 1000 },
      ),
    );
    const records = await Promise.all(calls);
    const sorted = (values: number[]): number[] => values.sort((x, y) => x - y);
    expect(sorted(records.map(([first]) => first.totalHits))).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    const counted = records.filter(([first]) => !first.isBlocked);
    expect(counted).toHaveLength(150);
    expect(records.filter(([, second]) => second !== undefined)).toHaveLength(150);
    for (const session of [0, 1]) {
      const counts = records
        .filter(([, second], i) => second !== undefined && (i % 3 === 0 ? 0 : 1) === session)
        .map(([, second]) => second!.totalHits);
      expect(sorted(counts)).toEqual(Array.from({ length: counts.length }, (_, i) => i + 1));
    }
  });

  it('starts a new window once the old one is over', async () => {
    const first = await a.increment('client:sub:window', 50, 1);
    expect(first.isBlocked).toBe(false);
    expect((await b.increment('client:sub:window', 50, 1)).isBlocked).toBe(true);
    const deadline = Date.now() + 2000;
    let next = await a.increment('client:sub:window', 50, 1);
    while (next.totalHits !== 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      next = await a.increment('client:sub:window', 50, 1);
    }
    expect(next).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('fails fast with a store-unavailable error when the database cannot be reached', async () => {
    const down = new PostgresRateLimitStore({
      url: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`,
      queryTimeout: 500,
    });
    try {
      const startedAt = Date.now();
      await expect(down.increment('k', 1000, 1)).rejects.toBeInstanceOf(
        RateLimitStoreUnavailableError,
      );
      expect(Date.now() - startedAt).toBeLessThan(1500);
      expect(down.state()).toMatchObject({ store: 'postgres', available: false });
    } finally {
      await down.onModuleDestroy();
    }
  });
});
