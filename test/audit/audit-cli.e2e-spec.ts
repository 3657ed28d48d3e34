import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DataSource } from 'typeorm';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  buildDataSourceOptions,
  DATABASE_MIGRATIONS,
} from '../../src/core/database/database-url.js';
import { SecurityAuditWriter } from '../../src/core/audit/security-audit.writer.js';
import { AuditChain1795920000000 } from '../../src/core/database/migrations/1795920000000-audit-chain.js';
import { EventStore } from '../../src/sessions/event-store.js';
import { SESSION_ENTITIES } from '../../src/sessions/session.entities.js';
import { storageEngines } from '../support/databases.js';
import { startNode } from '../support/process.js';

// Runs the BUILT CLI (dist/main.js, `npx tsc -p tsconfig.build.json`) against databases the test
// seeds and then tampers with directly in SQL.

const engines = await storageEngines('audit CLI');

async function cli(
  url: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startNode(['dist/main.js', ...args], { OPENCLAW_DATABASE_URL: url });
  const { code } = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

async function verifyExport(lines: string): Promise<{ code: number | null; stdout: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'openclaw-audit-')), 'export.jsonl');
  writeFileSync(file, lines);
  const run = startNode(['scripts/verify-audit-export.mjs', file]);
  const { code } = await run.exited;
  return { code, stdout: run.stdout() };
}

async function open(url: string, migrations = DATABASE_MIGRATIONS): Promise<DataSource> {
  const options = buildDataSourceOptions(url, { entities: SESSION_ENTITIES });
  const dataSource = new DataSource({ ...options, migrations });
  await dataSource.initialize();
  return dataSource;
}

/** Sessions with a few events each (nested, unordered keys, unicode), and security records. */
async function seed(url: string): Promise<string[]> {
  const dataSource = await open(url);
  const store = new EventStore(dataSource);
  const keys: string[] = [];
  try {
    for (let s = 0; s < 3; s++) {
      const { session } = await store.createSession({
        ownerSubject: 'alice',
        agentId: 'echo',
        metadata: { z: 1, a: { y: [1, 'two', null], b: 'é "quoted" \n' } },
      });
      for (let i = 0; i < 4; i++) {
        await store.append(session.sessionKey, [
          { type: 'message.user', data: { content: `hello ${i}`, n: i, extra: { b: 2, a: 1 } } },
          { type: 'message.agent', data: { content: `reply ${i} ☃`, usage: { out: 3, in: 2 } } },
        ]);
      }
      keys.push(session.sessionKey);
    }
    await new SecurityAuditWriter(dataSource).append(
      ['auth.token_issued', 'client.created', 'auth.failed'].map((action, i) => ({
        at: new Date(Date.now() + i).toISOString(),
        action,
        outcome: action === 'auth.failed' ? 'denied' : 'ok',
        subject: 'alice',
        target: `client_${i}`,
        ip: '127.0.0.1',
        count: i + 1,
        detail: { scopes: ['admin'], n: i },
      })),
    );
  } finally {
    await store.onModuleDestroy();
    await dataSource.destroy();
  }
  return keys;
}

async function sql(url: string, text: string, params: unknown[]): Promise<void> {
  const dataSource = await open(url);
  try {
    const postgres = dataSource.options.type === 'postgres';
    let n = 0;
    await dataSource.query(postgres ? text.replace(/\?/g, () => `$${++n}`) : text, params);
  } finally {
    await dataSource.destroy();
  }
}

describe.each(engines)('audit verify/export on $name', ({ url, skip }) => {
  describe.skipIf(skip)('', () => {
    let dbUrl: string;
    let keys: string[];

    beforeAll(async () => {
      dbUrl = await url();
      keys = await seed(dbUrl);
    });

    it('verifies an untouched database, and its export re-verifies with the standalone script', async () => {
      const verified = await cli(dbUrl, ['audit', 'verify']);
      expect(verified.stderr).toBe('');
      expect(verified.stdout).toContain('ok      security (3 links)');
      expect(verified.stdout).toContain('Verified: 3 session chain(s)');
      expect(verified.code).toBe(0);

      const exported = await cli(dbUrl, ['audit', 'export']);
      expect(exported.code).toBe(0);
      const lines = exported.stdout.trim().split('\n');
      expect(lines).toHaveLength(3 * 9 + 3);
      expect(JSON.parse(lines[0])).toMatchObject({
        chain: 'session',
        seq: 1,
        type: 'session.created',
      });
      const offline = await verifyExport(exported.stdout);
      expect(offline.stdout).toContain('Verified: 30 line(s) in 4 chain(s).');
      expect(offline.code).toBe(0);

      // An export from the middle of a chain still verifies (the first line's prev anchors it).
      const one = await cli(dbUrl, ['audit', 'export', '--session', keys[0]]);
      const tail = one.stdout.trim().split('\n').slice(4).join('\n');
      expect((await verifyExport(tail)).code).toBe(0);
      const since = JSON.parse(one.stdout.trim().split('\n')[1]).at as string;
      const recent = await cli(dbUrl, ['audit', 'export', '--session', keys[0], '--since', since]);
      expect(recent.stdout.trim().split('\n').length).toBeGreaterThan(0);
      expect((await verifyExport(recent.stdout)).code).toBe(0);
    });

    it('names the seq of an event whose data was edited in the database', async () => {
      await sql(
        dbUrl,
        `UPDATE "session_events" SET "data" = ? WHERE "session_key" = ? AND "seq" = ?`,
        [JSON.stringify({ content: 'hello 9', n: 1, extra: { a: 1, b: 2 } }), keys[1], 4],
      );
      const one = await cli(dbUrl, ['audit', 'verify', '--session', keys[1]]);
      expect(one.stdout).toMatch(
        new RegExp(`BROKEN  ${keys[1]} at seq 4: expected [0-9a-f]{64}, found [0-9a-f]{64}`),
      );
      expect(one.code).toBe(1);
      const all = await cli(dbUrl, ['audit', 'verify']);
      expect(all.stdout).toContain(`BROKEN  ${keys[1]} at seq 4`);
      expect(all.stdout).toContain('1 chain(s) broken.');
      expect(all.code).toBe(1);
      // The export of the edited session no longer verifies offline, at the same seq.
      const exported = await cli(dbUrl, ['audit', 'export', '--session', keys[1]]);
      const offline = await verifyExport(exported.stdout);
      expect(offline.stdout).toContain(`BROKEN  session ${keys[1]} at seq 4`);
      expect(offline.code).toBe(1);
    });

    it('reports a deleted event as a gap, and a deleted last event too', async () => {
      await sql(dbUrl, `DELETE FROM "session_events" WHERE "session_key" = ? AND "seq" = ?`, [
        keys[2],
        6,
      ]);
      const gap = await cli(dbUrl, ['audit', 'verify', '--session', keys[2]]);
      expect(gap.stdout).toContain(`BROKEN  ${keys[2]} at seq 6: missing (deleted?) link`);
      expect(gap.code).toBe(1);
      await sql(dbUrl, `DELETE FROM "session_events" WHERE "session_key" = ? AND "seq" >= ?`, [
        keys[2],
        6,
      ]);
      const tail = await cli(dbUrl, ['audit', 'verify', '--session', keys[2]]);
      expect(tail.stdout).toContain(`BROKEN  ${keys[2]} at seq 6: missing`);
      expect(tail.code).toBe(1);
    });

    it('names an edited security record', async () => {
      await sql(dbUrl, `UPDATE "audit_events" SET "count" = ? WHERE "seq" = ?`, [1, 3]);
      const all = await cli(dbUrl, ['audit', 'verify']);
      expect(all.stdout).toMatch(/BROKEN {2}security at seq 3: expected/);
      expect(all.code).toBe(1);
    });

    it('says so for an unknown session, and refuses a bad --since', async () => {
      expect((await cli(dbUrl, ['audit', 'verify', '--session', 'ses_nope'])).code).toBe(3);
      const none = await cli(dbUrl, ['audit', 'export', '--session', 'ses_nope']);
      expect([none.code, none.stdout, none.stderr.trim()]).toEqual([3, '', 'No session ses_nope.']);
      const bad = await cli(dbUrl, ['audit', 'export', '--since', 'yesterday-ish']);
      expect(bad.stderr).toContain('--since must be an ISO 8601 time');
      expect(bad.code).toBe(2);
    });
  });
});

describe.each(engines)('migration 1795920000000 on $name', ({ url, skip }) => {
  describe.skipIf(skip)('', () => {
    it('backfills the chains of a database created by the previous migrations', async () => {
      const dbUrl = await url();
      const previous = DATABASE_MIGRATIONS.slice(
        0,
        DATABASE_MIGRATIONS.indexOf(AuditChain1795920000000),
      );
      const before = await open(dbUrl, previous);
      const postgres = before.options.type === 'postgres';
      let n = 0;
      const q = (text: string): string => (postgres ? text.replace(/\?/g, () => `$${++n}`) : text);
      try {
        for (let s = 0; s < 3; s++) {
          const key = `ses_backfill_${s}`;
          const events = 700 + s; // more than a page
          n = 0;
          await before.query(
            q(`INSERT INTO "sessions" ("session_key", "owner_subject", "agent_id", "metadata", "status", "last_seq", "created_at")
               VALUES (?, 'alice', 'echo', '{}', 'active', ?, '2026-01-01T00:00:00.000Z')`),
            [key, events],
          );
          for (let seq = 1; seq <= events; seq += 100) {
            const rows = [];
            const params: unknown[] = [];
            for (let k = seq; k < Math.min(seq + 100, events + 1); k++) {
              rows.push('(?, ?, ?, ?, ?)');
              // Stored as JSON.stringify wrote it: keys unsorted.
              params.push(
                key,
                k,
                'message.user',
                JSON.stringify({ z: k, a: 'x' }),
                '2026-01-01T00:00:00.000Z',
              );
            }
            n = 0;
            await before.query(
              q(
                `INSERT INTO "session_events" ("session_key", "seq", "type", "data", "at") VALUES ${rows.join(', ')}`,
              ),
              params,
            );
          }
        }
      } finally {
        await before.destroy();
      }
      const migrated = await cli(dbUrl, ['migrate']);
      expect(migrated.stdout).toContain('AuditChain1795920000000');
      expect(migrated.code).toBe(0);
      const verified = await cli(dbUrl, ['audit', 'verify']);
      expect(verified.stdout).toContain('Verified: 3 session chain(s)');
      expect(verified.code).toBe(0);
      // Appends after the backfill continue the backfilled chain.
      const after = await open(dbUrl);
      const store = new EventStore(after);
      await store.append('ses_backfill_1', [{ type: 'message.user', data: { content: 'later' } }]);
      await store.onModuleDestroy();
      await after.destroy();
      const again = await cli(dbUrl, ['audit', 'verify', '--session', 'ses_backfill_1']);
      expect(again.stdout).toContain('ok      ses_backfill_1 (702 links)');
      expect(again.code).toBe(0);
    });
  });
});
