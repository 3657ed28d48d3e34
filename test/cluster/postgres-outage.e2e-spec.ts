import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../support/auth-tokens.js';
import { startCluster, type ClusterInstance, type TestCluster } from '../support/cluster.js';
import { reportMissingPostgres, startOwnPostgres, type OwnPostgres } from '../support/databases.js';
import { ALL_SCOPES, postRpc, WsTestClient } from '../support/gateway.js';

const server = await startOwnPostgres();
if (!server) reportMissingPostgres('PostgreSQL outage');

/** Polls /health/ready until it answers `status`. */
async function readiness(gw: ClusterInstance, status: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await fetch(`${gw.baseUrl}/health/ready`)).status !== status) {
    if (Date.now() > deadline) throw new Error(`${gw.id} never answered ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!server)('two gateway processes through a PostgreSQL outage (no Redis)', () => {
  let cluster: TestCluster;
  let pg: OwnPostgres;
  let headers: Record<string, string>;
  let id = 0;
  const call = (gw: ClusterInstance, method: string, params: unknown) =>
    postRpc(gw.baseUrl, { jsonrpc: '2.0', id: ++id, method, params }, { headers });

  beforeAll(async () => {
    pg = server!;
    // Limits fail open here, so that calls reach the event log and meet the outage there.
    cluster = await startCluster(2, {
      databaseUrl: pg.url,
      config: { rateLimit: { onStoreFailure: 'open' } },
    });
    headers = { authorization: `Bearer ${await signToken({ sub: 'pg', scope: ALL_SCOPES })}` };
  });

  afterAll(async () => {
    await cluster?.close();
  });

  it('answers a clear retryable error meanwhile, crashes nothing, and heals everything after', async () => {
    const [a, b] = cluster.instances;
    const created = await call(a, 'session.create', {});
    const { sessionKey } = created.body.result;
    const client = await WsTestClient.connect(b.wsUrl, { headers });
    await client.call('session.history', { sessionKey });
    await call(a, 'session.message', { sessionKey, content: 'before' });

    pg.stop();
    const refused = await call(a, 'session.message', { sessionKey, content: 'during' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect(refused.body.error).toMatchObject({ code: -32013, data: { retryable: true } });
    await readiness(a, 503);
    await readiness(b, 503);

    pg.start();
    await readiness(a, 200);
    await readiness(b, 200);
    // The pool reconnects by itself: the first calls after the outage may still meet a dead
    // connection, and are refused the same retryable way.
    let after = await call(a, 'session.message', { sessionKey, content: 'after' });
    for (let attempt = 0; after.status === 503 && attempt < 20; attempt++) {
      after = await call(a, 'session.message', { sessionKey, content: 'after' });
    }
    expect(after.status).toBe(200);
    const lastSeq = after.body.result.seq as number;
    const seen: number[] = [];
    while (seen.at(-1) !== lastSeq) {
      seen.push((await client.next((f) => f.method === 'session.event', 15_000)).params.seq);
    }
    // B's client saw the whole log once, in order: nothing the outage lost stayed lost.
    expect([1, ...seen]).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    expect(a.process.child.exitCode).toBeNull();
    expect(b.process.child.exitCode).toBeNull();
    client.close();
  });
});
