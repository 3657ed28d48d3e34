import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { postgresUrl, reportMissingPostgres, sqliteUrl } from '../../test/support/databases.js';
import { buildDataSourceOptions } from '../core/database/database-url.js';
import {
  IdempotencyKeyConflictError,
  LeaseLostError,
  SessionEndedError,
  SessionNotFoundError,
} from './event-store.errors.js';
import { EventStore } from './event-store.js';
import { SessionLeaseStore } from './session-lease.store.js';
import { SESSION_ENTITIES } from './session.entities.js';

const postgresAvailable = (await postgresUrl()) !== undefined;
if (!postgresAvailable) reportMissingPostgres('event writers');

/** Each append path: SQLite in this thread (memory), SQLite's writer thread (a file), PostgreSQL. */
const engines = [
  { name: 'SQLite in memory', url: () => Promise.resolve('sqlite::memory:'), skip: false },
  { name: 'a SQLite file', url: () => Promise.resolve(sqliteUrl()), skip: false },
  { name: 'PostgreSQL', url: async () => (await postgresUrl())!, skip: !postgresAvailable },
];

const message = (content: string, idempotencyKey?: string) => ({
  type: 'message.user',
  data: { content },
  ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
});

describe.each(engines)('group-committed appends on $name', ({ name, url, skip }) => {
  describe.skipIf(skip)('', () => {
    let dbUrl: string;
    const opened: DataSource[] = [];
    let store: EventStore;
    let leases: SessionLeaseStore;

    const open = async (migrationsRun = true) => {
      const dataSource = new DataSource(
        buildDataSourceOptions(dbUrl, { migrationsRun, entities: SESSION_ENTITIES }),
      );
      await dataSource.initialize();
      opened.push(dataSource);
      return dataSource;
    };
    const newSession = async () =>
      (await store.createSession({ ownerSubject: 'alice', agentId: 'echo' })).session.sessionKey;

    beforeAll(async () => {
      dbUrl = await url();
      const dataSource = await open();
      store = new EventStore(dataSource);
      leases = new SessionLeaseStore(dataSource);
    });

    afterAll(async () => {
      await store.onModuleDestroy();
      for (const dataSource of opened.reverse()) await dataSource.destroy();
    });

    it('gives 100 concurrent appends to one session seqs 2..101, each event once, in few commits', async () => {
      // Two stores on one database are two gateway instances (an in-memory SQLite is one).
      const other = name === 'SQLite in memory' ? store : new EventStore(await open(false));
      const key = await newSession();
      const before = store.writeStats.batches;

      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          (i % 2 === 0 ? store : other).append(key, [message(`m${i}`)]),
        ),
      );

      const history = await store.history(key, 0, 1000);
      expect(history.map((e) => e.seq)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
      expect(
        history
          .slice(1)
          .map((e) => e.data.content)
          .sort(),
      ).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`).sort());
      for (const [event] of results) expect(history[event.seq - 1]).toEqual(event);
      // Group commit groups: 50 calls arriving together share a handful of commits.
      expect(store.writeStats.batches - before).toBeLessThan(10);
      if (other !== store) await other.onModuleDestroy();
    });

    it('fails only the calls at fault in a batch, storing nothing of theirs', async () => {
      const [a, b, ended] = [await newSession(), await newSession(), await newSession()];
      await store.append(b, [message('first', 'dup')]);
      await store.append(ended, [{ type: 'session.ended', data: {} }]);
      const lease = (await leases.acquire(a, 'me', 30_000))!;
      const before = store.writeStats.batches;

      const results = await Promise.allSettled([
        store.append(a, [message('a1')], { fence: { owner: 'me', token: lease.token } }),
        store.append(b, [message('again', 'dup')]),
        store.append('ses_nosuchsession', [message('x')]),
        store.append(ended, [message('late')], { expectActive: true }),
        store.append(b, [message('b2', 'fresh')]),
        store.append(a, [message('stale')], { fence: { owner: 'me', token: lease.token - 1 } }),
        store.append(a, [message('a2'), message('a3')]),
      ]);

      const errors = results.map((r) => (r.status === 'rejected' ? r.reason : undefined));
      expect(errors[0]).toBeUndefined();
      expect(errors[1]).toBeInstanceOf(IdempotencyKeyConflictError);
      expect(errors[2]).toBeInstanceOf(SessionNotFoundError);
      expect(errors[3]).toBeInstanceOf(SessionEndedError);
      expect(errors[4]).toBeUndefined();
      expect(errors[5]).toBeInstanceOf(LeaseLostError);
      expect(errors[6]).toBeUndefined();
      // They were committed together (one batch per lane; PostgreSQL has four).
      expect(store.writeStats.batches - before).toBeLessThanOrEqual(4);
      const contents = async (key: string) =>
        (await store.history(key, 0, 100)).map((e) => [e.seq, e.data.content]);
      expect(await contents(a)).toEqual([
        [1, undefined],
        [2, 'a1'],
        [3, 'a2'],
        [4, 'a3'],
      ]);
      expect(await contents(b)).toEqual([
        [1, undefined],
        [2, 'first'],
        [3, 'b2'],
      ]);
      expect(await store.lastSeq(ended)).toBe(2);
    });

    it('stores nothing of a call that fails mid-write (one key twice in one append)', async () => {
      const key = await newSession();
      await expect(
        store.append(key, [message('one', 'twice'), message('two', 'twice')]),
      ).rejects.toThrow();
      expect(await store.lastSeq(key)).toBe(1);
      expect(await store.history(key, 0, 10)).toHaveLength(1);
      const [next] = await store.append(key, [message('after')]);
      expect(next.seq).toBe(2);
    });

    it('refuses a stale fencing token, and frees the lease with the turn’s last append', async () => {
      const key = await newSession();
      const held = (await leases.acquire(key, 'a', 30_000))!;
      expect(held.lastSeq).toBe(1);
      const fence = { owner: 'a', token: held.token };

      await store.append(key, [message('one')], { fence });
      expect(await leases.acquire(key, 'b', 30_000)).toBeUndefined();
      await store.append(key, [message('last')], { fence: { ...fence, release: true } });
      const next = (await leases.acquire(key, 'b', 30_000))!;
      expect(next).toMatchObject({ token: held.token + 1, lastSeq: 3 });

      await expect(store.append(key, [message('late')], { fence })).rejects.toBeInstanceOf(
        LeaseLostError,
      );
      await expect(
        store.append(key, [message('late')], { fence: { ...fence, release: true } }),
      ).rejects.toBeInstanceOf(LeaseLostError);
      // The refused release left b's lease alone.
      expect(await leases.renew(next, 30_000)).toBe(true);
      expect(await store.lastSeq(key)).toBe(3);
    });

    it('lets one of two instances racing on an idempotency key win, the other calls unharmed', async () => {
      const other = name === 'SQLite in memory' ? store : new EventStore(await open(false));
      const key = await newSession();
      const bystander = await newSession();

      const results = await Promise.allSettled([
        store.append(key, [message('mine', 'same')]),
        other.append(key, [message('theirs', 'same')]),
        store.append(bystander, [message('by1')]),
        other.append(bystander, [message('by2')]),
      ]);

      const [first, second, ...rest] = results;
      expect([first.status, second.status].sort()).toEqual(['fulfilled', 'rejected']);
      const loser = first.status === 'rejected' ? first : (second as PromiseRejectedResult);
      expect(loser.reason).toBeInstanceOf(IdempotencyKeyConflictError);
      expect(rest.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
      expect((await store.history(key, 0, 10)).map((e) => e.seq)).toEqual([1, 2]);
      expect((await store.history(bystander, 0, 10)).map((e) => e.seq)).toEqual([1, 2, 3]);
      if (other !== store) await other.onModuleDestroy();
    });
  });
});
