import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl, reportMissingPostgres, sqliteUrl } from '../../test/support/databases.js';
import { buildDataSourceOptions } from '../core/database/database-url.js';
import { EventPageReader } from './event-page.reader.js';
import { EventStore } from './event-store.js';
import { SESSION_ENTITIES } from './session.entities.js';

const postgresAvailable = (await postgresUrl()) !== undefined;
if (!postgresAvailable) reportMissingPostgres('event page reader');

const engines = [
  { name: 'SQLite', url: () => Promise.resolve(sqliteUrl()), skip: false },
  { name: 'PostgreSQL', url: async () => (await postgresUrl())!, skip: !postgresAvailable },
];

describe.each(engines)('EventPageReader on $name', ({ url, skip }) => {
  describe.skipIf(skip)('', () => {
    let dataSource: DataSource;
    let store: EventStore;
    let reader: EventPageReader;
    let sessionKey: string;

    beforeAll(async () => {
      dataSource = new DataSource(
        buildDataSourceOptions(await url(), { migrationsRun: true, entities: SESSION_ENTITIES }),
      );
      await dataSource.initialize();
      store = new EventStore(dataSource);
      reader = new EventPageReader(dataSource);
      ({
        session: { sessionKey },
      } = await store.createSession({ ownerSubject: 'alice', agentId: 'echo' }));
      // Multi-byte text: the budget counts bytes, not characters.
      const text = 'é'.repeat(2000); // 4000 bytes
      for (let i = 0; i < 5; i++)
        await store.append(sessionKey, [{ type: 'note', data: { text } }]);
    });
    afterAll(async () => {
      if (dataSource?.isInitialized) await dataSource.destroy();
    });

    it('stops a page before the event that would pass the byte budget', async () => {
      const page = await reader.read(sessionKey, 1, 100, 10_000);
      expect(page.events.map((e) => e.seq)).toEqual([2, 3]);
      expect(page.more).toBe(true);
      expect(page.events[0].data.text).toBe('é'.repeat(2000));
    });

    it('returns one event larger than the budget alone', async () => {
      const page = await reader.read(sessionKey, 1, 100, 1024);
      expect(page.events.map((e) => e.seq)).toEqual([2]);
      expect(page.more).toBe(true);
    });

    it('tells the end of the log from a page that is full by count', async () => {
      expect(await reader.read(sessionKey, 3, 3, 1_000_000)).toMatchObject({ more: false });
      expect((await reader.read(sessionKey, 2, 3, 1_000_000)).more).toBe(true);
      expect(await reader.read(sessionKey, 6, 100, 1_000_000)).toEqual({ events: [], more: false });
    });
  });
});
