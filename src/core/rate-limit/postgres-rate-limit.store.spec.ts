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
