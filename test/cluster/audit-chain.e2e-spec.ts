import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { instanceRpc, startCluster, type TestCluster } from '../support/cluster.js';
import { postgresUrl, reportMissingPostgres } from '../support/databases.js';
import { ALL_SCOPES, postRpc } from '../support/gateway.js';
import { signToken } from '../support/auth-tokens.js';
import { startNode } from '../support/process.js';

// Two gateway processes (the BUILT gateway) append to the same sessions and to the security
// log; afterwards `audit verify` walks one unbroken chain per session and one security chain.

const pg = await postgresUrl();
if (!pg) reportMissingPostgres('audit chains across instances');

describe.skipIf(!pg)('hash chains across two gateway processes on PostgreSQL', () => {
  let cluster: TestCluster;
  let auth: Record<string, string>;
  const { ok } = instanceRpc(() => auth);

  beforeAll(async () => {
    const high = { limit: 1_000_000, ttl: 60_000 };
    cluster = await startCluster(2, {
      databaseUrl: pg!,
      config: { rateLimit: { client: high, session: high, authFailures: high } },
    });
    auth = { authorization: `Bearer ${await signToken({ sub: 'auditor', scope: ALL_SCOPES })}` };
  }, 60_000);

  afterAll(() => cluster?.close());

  it('keeps every chain whole while both instances append', async () => {
    const [a, b] = cluster.instances;
    const sessions: string[] = await Promise.all(
      Array.from(
        { length: 8 },
        async (_, s) => (await ok(s % 2 ? a : b, 'session.create', {})).sessionKey,
      ),
    );
    // Each session's turns alternate between the instances; the sessions run at once, so batches
    // hold several sessions; meanwhile both instances record admin calls and failed tokens.
    await Promise.all([
      ...sessions.map(async (sessionKey) => {
        for (let turn = 0; turn < 6; turn++) {
          await ok(turn % 2 ? a : b, 'session.message', { sessionKey, content: `turn ${turn}` });
        }
      }),
      ...[a, b].map(async (gw) => {
        for (let i = 0; i < 20; i++) {
          await ok(gw, 'sessions.list', { limit: 1 });
          await postRpc(
            gw.baseUrl,
            { jsonrpc: '2.0', id: i, method: 'agent.list' },
            {
              headers: { authorization: 'Bearer forged' },
            },
          );
        }
      }),
    ]);
    await Promise.all([a.stop(), b.stop()]); // flushes the security log

    const verify = startNode(['dist/main.js', 'audit', 'verify'], { OPENCLAW_DATABASE_URL: pg! });
    const { code } = await verify.exited;
    expect(verify.stdout()).toContain(
      'Verified: 8 session chain(s) and the security log are intact.',
    );
    expect(code).toBe(0);
    for (const sessionKey of sessions) {
      const one = startNode(['dist/main.js', 'audit', 'verify', '--session', sessionKey], {
        OPENCLAW_DATABASE_URL: pg!,
      });
      await one.exited;
      // session.created, then a user message and an answer per turn.
      expect(one.stdout()).toContain(`ok      ${sessionKey} (13 links)`);
    }
    const security = startNode(['dist/main.js', 'audit', 'export'], { OPENCLAW_DATABASE_URL: pg! });
    await security.exited;
    const records = security
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { chain: string; action: string; count: number })
      .filter((line) => line.chain === 'security');
    const admin = records.filter((r) => r.action === 'rpc.admin_call');
    expect(admin).toHaveLength(40);
    const failures = records.filter((r) => r.action === 'auth.failed');
    expect(failures.reduce((sum, r) => sum + r.count, 0)).toBe(40);
    expect(failures.length).toBeLessThanOrEqual(4);
  });
});
