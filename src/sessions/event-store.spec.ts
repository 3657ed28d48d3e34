import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { postgresUrl, reportMissingPostgres, sqliteUrl } from '../../test/support/databases.js';
import { buildDataSourceOptions, DATABASE_MIGRATIONS } from '../core/database/database-url.js';
import { DatabaseModule } from '../core/database/database.module.js';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SESSION_ENTITIES } from './session.entities.js';
import {
  IdempotencyKeyConflictError,
  SessionEndedError,
  SessionNotFoundError,
} from './event-store.errors.js';
import { EventStore } from './event-store.js';
import { AuditChainReader } from '../audit/audit-chain.reader.js';
import { AuditChainVerifier } from '../audit/audit-chain.verifier.js';
import { canonicalJson } from '../core/audit/canonical-json.js';
import { GENESIS_HASH, sessionEventHash } from '../core/audit/chain-hash.js';

const postgresAvailable = (await postgresUrl()) !== undefined;
if (!postgresAvailable) reportMissingPostgres('event store');

const engines = [
  { name: 'SQLite', url: () => Promise.resolve(sqliteUrl()), skip: false },
  { name: 'PostgreSQL', url: async () => (await postgresUrl())!, skip: !postgresAvailable },
];

async function open(
  url: string,
  migrationsRun = true,
): Promise<{ dataSource: DataSource; store: EventStore }> {
  const dataSource = new DataSource(
    buildDataSourceOptions(url, { migrationsRun, entities: SESSION_ENTITIES }),
  );
  await dataSource.initialize();
  return { dataSource, store: new EventStore(dataSource) };
}

const owner = (name = 'alice') => ({ ownerSubject: name, agentId: 'echo' });
const userMessage = (content: string, idempotencyKey?: string) => ({
  type: 'message.user',
  data: { content },
  ...(idempotencyKey ? { idempotencyKey } : {}),
});

describe.each(engines)('EventStore on $name', ({ url, skip }) => {
  describe.skipIf(skip)('', () => {
    let dbUrl: string;
    let dataSource: DataSource;
    let store: EventStore;
    const opened: DataSource[] = [];

    beforeAll(async () => {
      dbUrl = await url();
      ({ dataSource, store } = await open(dbUrl));
      opened.push(dataSource);
    });

    afterAll(async () => {
      for (const ds of opened) if (ds.isInitialized) await ds.destroy();
    });

    it('creates a session whose first event is session.created with seq 1', async () => {
      const { session, event } = await store.createSession({
        ...owner(),
        metadata: { title: 'hi' },
      });

      expect(session.sessionKey).toMatch(/^ses_[A-Za-z0-9_-]{24}$/);
      expect(session).toMatchObject({
        ownerSubject: 'alice',
        agentId: 'echo',
        status: 'active',
        lastSeq: 1,
      });
      expect(event).toMatchObject({
        sessionKey: session.sessionKey,
        seq: 1,
        type: 'session.created',
      });
      expect(new Date(event.at).toISOString()).toBe(event.at);
      expect(await store.getSession(session.sessionKey)).toEqual(session);
      expect(await store.history(session.sessionKey, 0, 10)).toEqual([event]);
    });

    it('assigns contiguous seqs after the last one', async () => {
      const { session } = await store.createSession(owner());

      const first = await store.append(session.sessionKey, [userMessage('a'), userMessage('b')]);
      const second = await store.append(session.sessionKey, [userMessage('c')]);

      expect([...first, ...second].map((e) => e.seq)).toEqual([2, 3, 4]);
      expect((await store.getSession(session.sessionKey))?.lastSeq).toBe(4);
      expect((await store.history(session.sessionKey, 0, 100)).map((e) => [e.seq, e.data])).toEqual(
        [
          [1, { agentId: 'echo', metadata: {} }],
          [2, { content: 'a' }],
          [3, { content: 'b' }],
          [4, { content: 'c' }],
        ],
      );
    });

    it('gives 50 concurrent appends from two instances seqs 1..51 with each event once', async () => {
      const other = await open(dbUrl, false);
      opened.push(other.dataSource);
      const { session } = await store.createSession(owner());

      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          (i % 2 === 0 ? store : other.store).append(session.sessionKey, [userMessage(`m${i}`)]),
        ),
      );

      const history = await store.history(session.sessionKey, 0, 1000);
      expect(history.map((e) => e.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
      expect(
        history
          .slice(1)
          .map((e) => e.data.content)
          .sort(),
      ).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`).sort());
      expect(new Set(results.map(([e]) => e.seq)).size).toBe(50);
      for (const [event] of results) expect(history[event.seq - 1]).toEqual(event);
      // Each instance chained from the head the other had just moved: one unbroken chain.
      const verifier = new AuditChainVerifier(new AuditChainReader(dataSource));
      expect(await verifier.verifySession(session.sessionKey)).toEqual({
        chain: session.sessionKey,
        ok: true,
        links: 51,
      });
    });

    it('chains every event to the one before it, in the append itself', async () => {
      const { session } = await store.createSession({ ...owner(), metadata: { b: 1, a: [2] } });
      await store.append(session.sessionKey, [userMessage('one'), userMessage('two')]);
      await store.append(session.sessionKey, [{ type: 'note', data: { z: { y: 1, x: 'é' } } }]);
      const rows: Array<{ seq: number; type: string; at: string; data: string; hash: string }> =
        await dataSource.query(
          `SELECT "seq", "type", "at", "data", "hash" FROM "session_events" WHERE "session_key" = '${session.sessionKey}' ORDER BY "seq"`,
        );
      let prev = GENESIS_HASH;
      for (const row of rows) {
        // Stored as canonical JSON, hashed as such.
        expect(row.data).toBe(canonicalJson(JSON.parse(row.data)));
        prev = sessionEventHash(prev, {
          sessionKey: session.sessionKey,
          ...row,
          dataJson: row.data,
        });
        expect(row.hash).toBe(prev);
      }
      expect(rows).toHaveLength(4);
      const [head] = await dataSource.query(
        `SELECT "last_hash" FROM "sessions" WHERE "session_key" = '${session.sessionKey}'`,
      );
      expect(head.last_hash).toBe(prev);
    });

    it('pages history by afterSeq and limit', async () => {
      const { session } = await store.createSession(owner());
      await store.append(
        session.sessionKey,
        Array.from({ length: 24 }, (_, i) => userMessage(`m${i}`)),
      );

      const seqs = async (after: number, limit: number) =>
        (await store.history(session.sessionKey, after, limit)).map((e) => e.seq);
      expect(await seqs(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(await seqs(10, 10)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
      expect(await seqs(20, 10)).toEqual([21, 22, 23, 24, 25]);
      expect(await seqs(25, 10)).toEqual([]);
      expect(await seqs(0, 0)).toEqual([]);
    });

    it('ends a session with session.ended and then refuses appends that expect it active', async () => {
      const { session } = await store.createSession(owner());
      const [ended] = await store.append(
        session.sessionKey,
        [{ type: 'session.ended', data: { reason: 'done' } }],
        {
          expectActive: true,
        },
      );

      const after = await store.getSession(session.sessionKey);
      expect(after).toMatchObject({ status: 'ended', lastSeq: 2, endedAt: ended.at });
      await expect(
        store.append(session.sessionKey, [userMessage('late')], { expectActive: true }),
      ).rejects.toBeInstanceOf(SessionEndedError);
      expect(await store.getSession(session.sessionKey)).toEqual(after);
      expect(await store.history(session.sessionKey, 0, 10)).toHaveLength(2);

      // Without expectActive the log still accepts events (e.g. a late tool result); endedAt stays.
      await store.append(session.sessionKey, [{ type: 'session.ended', data: {} }]);
      expect(await store.getSession(session.sessionKey)).toMatchObject({
        lastSeq: 3,
        endedAt: ended.at,
      });
    });

    it('finds an event by idempotency key and refuses the same key twice in a session', async () => {
      const { session } = await store.createSession(owner());
      const { session: otherSession } = await store.createSession(owner());
      const [stored] = await store.append(session.sessionKey, [userMessage('once', 'key-1')]);

      expect(await store.findByIdempotencyKey(session.sessionKey, 'key-1')).toEqual(stored);
      expect(await store.findByIdempotencyKey(session.sessionKey, 'key-2')).toBeNull();
      expect(await store.findByIdempotencyKey(otherSession.sessionKey, 'key-1')).toBeNull();
      await expect(
        store.append(session.sessionKey, [userMessage('again', 'key-1')]),
      ).rejects.toBeInstanceOf(IdempotencyKeyConflictError);
      await expect(
        store.append(session.sessionKey, [userMessage('a', 'key-3'), userMessage('b', 'key-3')]),
      ).rejects.toBeInstanceOf(IdempotencyKeyConflictError);
      // The same key in another session is a different message.
      await store.append(otherSession.sessionKey, [userMessage('once', 'key-1')]);
      expect((await store.getSession(session.sessionKey))?.lastSeq).toBe(2);
    });

    it('fails only the call at fault when calls share a transaction', async () => {
      const { session } = await store.createSession(owner());
      await store.append(session.sessionKey, [userMessage('x', 'dup')]);

      const results = await Promise.allSettled([
        store.append(session.sessionKey, [userMessage('a')]),
        store.append(session.sessionKey, [userMessage('b', 'dup')]),
        store.append('ses_doesnotexist', [userMessage('c')]),
        store.append(session.sessionKey, [userMessage('d')]),
      ]);

      expect(results.map((r) => r.status)).toEqual([
        'fulfilled',
        'rejected',
        'rejected',
        'fulfilled',
      ]);
      expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(
        IdempotencyKeyConflictError,
      );
      expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(SessionNotFoundError);
      const history = await store.history(session.sessionKey, 0, 100);
      expect(history.map((e) => [e.seq, e.data.content])).toEqual([
        [1, undefined],
        [2, 'x'],
        [3, 'a'],
        [4, 'd'],
      ]);
    });

    it('throws SessionNotFoundError for an unknown session', async () => {
      await expect(store.append('ses_unknown', [userMessage('x')])).rejects.toBeInstanceOf(
        SessionNotFoundError,
      );
      expect(await store.getSession('ses_unknown')).toBeNull();
      expect(await store.history('ses_unknown', 0, 10)).toEqual([]);
    });

    it('lists sessions newest first, by owner, with a cursor', async () => {
      const keys: string[] = [];
      for (let i = 0; i < 5; i++)
        keys.push((await store.createSession(owner('lister'))).session.sessionKey);
      await store.createSession(owner('someone-else'));

      const first = await store.listSessions({ ownerSubject: 'lister', limit: 3 });
      const second = await store.listSessions({
        ownerSubject: 'lister',
        limit: 3,
        after: first.at(-1)!.sessionKey,
      });

      const listed = [...first, ...second];
      expect(listed).toHaveLength(5);
      expect(new Set(listed.map((s) => s.sessionKey))).toEqual(new Set(keys));
      expect(listed.every((s) => s.ownerSubject === 'lister')).toBe(true);
      const created = listed.map((s) => s.createdAt);
      expect(created).toEqual([...created].sort().reverse());
      await expect(store.listSessions({ limit: 1, after: 'ses_unknown' })).rejects.toBeInstanceOf(
        SessionNotFoundError,
      );
    });

    it('migrates an empty database up to a schema matching the entities, and back down', async () => {
      const fresh = await open(await url(), false);
      opened.push(fresh.dataSource);
      const runner = fresh.dataSource.createQueryRunner();
      try {
        expect(await fresh.dataSource.showMigrations()).toBe(true);
        await fresh.dataSource.runMigrations();
        expect(await fresh.dataSource.showMigrations()).toBe(false);
        expect(await runner.hasTable('sessions')).toBe(true);
        expect(await runner.hasTable('session_events')).toBe(true);

        const drift = await fresh.dataSource.driver.createSchemaBuilder().log();
        expect(drift.upQueries.map((q) => q.query)).toEqual([]);
        // Events without an idempotency key (most) add no entry to its unique index.
        const [index] = await fresh.dataSource.query<Array<{ sql: string }>>(
          fresh.dataSource.options.type === 'postgres'
            ? `SELECT indexdef AS sql FROM pg_indexes WHERE indexname = 'UQ_session_events_session_idempotency'`
            : `SELECT sql FROM sqlite_master WHERE name = 'UQ_session_events_session_idempotency'`,
        );
        expect(index.sql).toMatch(
          /^CREATE UNIQUE INDEX .* WHERE \(?"?idempotency_key"? IS NOT NULL\)?$/,
        );

        for (let i = 0; i < DATABASE_MIGRATIONS.length; i++) {
          await fresh.dataSource.undoLastMigration();
        }
        expect(await runner.hasTable('session_events')).toBe(false);
        expect(await runner.hasTable('sessions')).toBe(false);
      } finally {
        await runner.release();
      }
    });
  });
});

describe('EventStore on a SQLite file', () => {
  it('keeps what it stored across a close and reopen, with durable pragmas', async () => {
    const url = sqliteUrl();
    const first = await open(url);
    const { session } = await first.store.createSession({ ...owner(), metadata: { n: 1 } });
    await first.store.append(session.sessionKey, [userMessage('persisted')]);
    const pragmas = await first.dataSource.query(
      'SELECT * FROM pragma_journal_mode, pragma_synchronous, pragma_foreign_keys, pragma_busy_timeout',
    );
    expect(pragmas).toEqual([
      { journal_mode: 'wal', synchronous: 2, foreign_keys: 1, timeout: 5000 },
    ]);
    await first.dataSource.destroy();

    const second = await open(url);
    try {
      expect(await second.store.getSession(session.sessionKey)).toEqual({ ...session, lastSeq: 2 });
      expect((await second.store.history(session.sessionKey, 1, 10)).map((e) => e.data)).toEqual([
        { content: 'persisted' },
      ]);
    } finally {
      await second.dataSource.destroy();
    }
  });
});

describe('buildDataSourceOptions', () => {
  it('accepts sqlite and postgres URLs', () => {
    expect(buildDataSourceOptions('sqlite::memory:')).toMatchObject({
      type: 'better-sqlite3',
      database: ':memory:',
    });
    const file = sqliteUrl().slice('sqlite:'.length);
    expect(buildDataSourceOptions(`sqlite:${file}`)).toMatchObject({ database: file });
    expect(
      buildDataSourceOptions('postgresql://u:p@localhost:5432/db', { migrationsRun: false }),
    ).toMatchObject({
      type: 'postgres',
      url: 'postgresql://u:p@localhost:5432/db',
      migrationsRun: false,
      synchronize: false,
    });
  });

  it('rejects any other URL with an error naming database.url and hiding the password', () => {
    expect(() => buildDataSourceOptions('mysql://root:secret@localhost/db')).toThrow(
      /^database\.url: .*root:\*\*\*@/,
    );
  });
});

describe('DatabaseModule', () => {
  it('gives an injected EventStore a migrated data source', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        DatabaseModule.forRoot({ url: sqliteUrl() }),
        TypeOrmModule.forFeature(SESSION_ENTITIES),
      ],
      providers: [EventStore],
    }).compile();
    await moduleRef.init();
    try {
      const store = moduleRef.get(EventStore);
      const { session } = await store.createSession(owner());
      expect(await store.getSession(session.sessionKey)).toEqual(session);
    } finally {
      await moduleRef.close();
    }
  });
});
