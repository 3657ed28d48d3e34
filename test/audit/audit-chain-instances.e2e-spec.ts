import { describe, expect, it } from 'vitest';

import { postgresUrl, reportMissingPostgres } from '../support/databases.js';
import { startNode } from '../support/process.js';

// Several instances append to the one security audit chain: real processes (the BUILT
// gateway's modules, `npx tsc -p tsconfig.build.json`), each with its own connection pool.

const postgresAvailable = (await postgresUrl()) !== undefined;
if (!postgresAvailable) reportMissingPostgres('audit chain instances');

/** An instance: `batches` concurrent appends of 3 records each, then exit. */
const INSTANCE = `
const { DataSource } = await import('typeorm');
const { buildDataSourceOptions } = await import('./dist/core/database/database-url.js');
const { SecurityAuditWriter } = await import('./dist/core/audit/security-audit.writer.js');
const dataSource = new DataSource(buildDataSourceOptions(process.env.URL));
await dataSource.initialize();
const writer = new SecurityAuditWriter(dataSource);
const name = process.env.NAME;
await Promise.all(Array.from({ length: Number(process.env.BATCHES) }, (_, b) =>
  writer.append([0, 1, 2].map((k) => ({
    at: new Date().toISOString(), action: 'test.append', outcome: 'ok', subject: name,
    target: name + '-' + b + '-' + k, ip: null, count: 1, detail: { b, k },
  })))));
await dataSource.destroy();
console.log('done ' + name);
`;

describe.skipIf(!postgresAvailable)('the security audit chain on PostgreSQL', () => {
  it('stays one valid chain while two instances append at once', async () => {
    const url = (await postgresUrl())!;
    const migrate = startNode(['dist/main.js', 'migrate'], { OPENCLAW_DATABASE_URL: url });
    expect((await migrate.exited).code).toBe(0);
    const instances = ['a', 'b'].map((name) =>
      startNode(['--input-type=module', '-e', INSTANCE], { URL: url, NAME: name, BATCHES: '40' }),
    );
    const exits = await Promise.all(instances.map((instance) => instance.exited));
    expect(
      exits.map((exit) => exit.code),
      instances.map((i) => i.stderr()).join('\n'),
    ).toEqual([0, 0]);

    const verify = startNode(['dist/main.js', 'audit', 'verify'], { OPENCLAW_DATABASE_URL: url });
    expect((await verify.exited).code).toBe(0);
    expect(verify.stdout()).toContain('ok      security (240 links)');

    // Both instances' records are all there, each once, interleaved in one numbering.
    const exported = startNode(['dist/main.js', 'audit', 'export'], { OPENCLAW_DATABASE_URL: url });
    await exported.exited;
    const records = exported
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq: number; target: string });
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 240 }, (_, i) => i + 1));
    expect(new Set(records.map((r) => r.target)).size).toBe(240);
  });
});
