import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl, reportMissingPostgres, sqliteUrl } from '../../test/support/databases.js';
import { buildDataSourceOptions } from '../core/database/database-url.js';
import { LeaseLostError } from './event-store.errors.js';
import { EventStore } from './event-store.js';
import { SessionLeaseStore } from './session-lease.store.js';
import { SESSION_ENTITIES } from './session.entities.js';

const postgresAvailable = (await postgresUrl()) !== undefined;
if (!postgresAvailable) reportMissingPostgres('session leases');

const engines = [
  { name: 'SQLite', url: () => Promise.resolve(sqliteUrl()), skip: false },
  { name: 'PostgreSQL', url: async () => (await postgresUrl())!, skip: !postgresAvailable },
];

describe.each(engines)('SessionLeaseStore on $name', ({ url, skip }) => {
  describe.skipIf(skip)('', () => {
    let dataSource: DataSource;
    let leases: SessionLeaseStore;
    let store: EventStore;
    const newSession = async (): Promise<string> =>
      (await store.createSession({ ownerSubject: 'alice', agentId: 'echo' })).session.sessionKey;

    beforeAll(async () => {
      dataSource = new DataSource(
        buildDataSourceOptions(await url(), { entities: SESSION_ENTITIES }),
      );
      await dataSource.initialize();
      leases = new SessionLeaseStore(dataSource);
      store = new EventStore(dataSource);
    });

    afterAll(async () => {
      await dataSource?.destroy();
    });

    it('grants a free lease to exactly one of many concurrent takers', async () => {
      const key = await newSession();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => leases.acquire(key, `instance-${i}`, 30_000)),
      );
      const winners = results.filter((lease) => lease !== undefined);
      expect(winners).toHaveLength(1);
      expect(winners[0]?.token).toBe(1);
    });

    it('names the holder of a live lease, and nobody once it is released or expired', async () => {
      const key = await newSession();
      expect(await leases.holder(key)).toBeUndefined();
      const lease = (await leases.acquire(key, 'instance-a', 30_000))!;
      expect(await leases.holder(key)).toEqual({ owner: 'instance-a', token: lease.token });
      await leases.release(lease);
      expect(await leases.holder(key)).toBeUndefined();
      await leases.acquire(key, 'instance-b', -1);
      expect(await leases.holder(key)).toBeUndefined();
    });

    it('refuses a held lease, and hands a released one over with a larger token', async () => {
      const key = await newSession();
      const first = await leases.acquire(key, 'a', 30_000);
      expect(first).toBeDefined();
      expect(await leases.acquire(key, 'b', 30_000)).toBeUndefined();
      expect(await leases.renew(first!, 30_000)).toBe(true);
      await leases.release(first!);
      const second = await leases.acquire(key, 'b', 30_000);
      expect(second?.token).toBe(first!.token + 1);
      // The old holder can neither renew nor free what is now b's.
      expect(await leases.renew(first!, 30_000)).toBe(false);
      await leases.release(first!);
      expect(await leases.acquire(key, 'c', 30_000)).toBeUndefined();
    });

    it('lets another instance take an expired lease, fencing out the one that let it lapse', async () => {
      const key = await newSession();
      const lapsed = await leases.acquire(key, 'crashed', 1);
      expect(lapsed).toBeDefined();
      let taken: Awaited<ReturnType<SessionLeaseStore['acquire']>>;
      const deadline = Date.now() + 2000;
      do taken = await leases.acquire(key, 'survivor', 30_000);
      while (!taken && Date.now() < deadline);
      expect(taken?.token).toBe(lapsed!.token + 1);
      expect(await leases.renew(lapsed!, 30_000)).toBe(false);
    });

    it('takes the leases of many sessions asked at once, refusing only those held elsewhere', async () => {
      const keys = await Promise.all(Array.from({ length: 8 }, () => newSession()));
      const held = (await leases.acquire(keys[3], 'elsewhere', 30_000))!;
      const statements = leases.acquireStats?.statements ?? 0;
      const results = await Promise.all(keys.map((key) => leases.acquire(key, 'here', 30_000)));
      if (leases.acquireStats) expect(leases.acquireStats.statements - statements).toBe(1);
      expect(results.map((lease) => lease?.token)).toEqual([1, 1, 1, undefined, 1, 1, 1, 1]);
      expect(results.every((lease, i) => i === 3 || lease?.sessionKey === keys[i])).toBe(true);
      expect(await leases.holder(keys[3])).toEqual({ owner: 'elsewhere', token: held.token });
      expect(await leases.holder(keys[5])).toEqual({ owner: 'here', token: 1 });
    });

    it('answers one session asked twice at once as two acquires one after the other', async () => {
      const key = await newSession();
      const [first, second] = await Promise.all([
        leases.acquire(key, 'a', 30_000),
        leases.acquire(key, 'b', 30_000),
      ]);
      expect(first).toMatchObject({ owner: 'a', token: 1, lastSeq: 1 });
      expect(second).toBeUndefined();
    });

    it('fences appends: only the lease holder writes, and its last append frees the lease', async () => {
      const key = await newSession();
      const held = (await leases.acquire(key, 'a', 30_000))!;
      const fence = { owner: held.owner, token: held.token };
      const message = { type: 'message.user', data: { content: 'hi' } };
      await store.append(key, [message], { fence });
      await expect(
        store.append(key, [message], { fence: { ...fence, token: fence.token - 1 } }),
      ).rejects.toBeInstanceOf(LeaseLostError);
      expect(await leases.acquire(key, 'b', 30_000)).toBeUndefined();
      await store.append(key, [message], { fence: { ...fence, release: true } });
      const next = await leases.acquire(key, 'b', 30_000);
      expect(next?.token).toBe(held.token + 1);
      await expect(store.append(key, [message], { fence })).rejects.toBeInstanceOf(LeaseLostError);
      // Nothing of the refused appends was stored: 1 created + 2 messages.
      expect((await store.history(key, 0, 100)).map((e) => e.seq)).toEqual([1, 2, 3]);
    });
  });
});
