import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresUrl, reportMissingPostgres } from './support/databases.js';
import { postRpc, startGateway, type TestGateway } from './support/gateway.js';

const server = await postgresUrl();
if (!server) reportMissingPostgres('rate limits on PostgreSQL');

const call = (method: string, params: unknown, id = 1) => ({ jsonrpc: '2.0', method, params, id });

/**
 * Without Redis the counters live in PostgreSQL, where a call's client and session hits go in one
 * statement with the other calls of its turn of the event loop: the limits must stay exact.
 */
describe.skipIf(!server)('rate limits on PostgreSQL (no Redis)', () => {
  let gateway: TestGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  async function boot(client: number, session: number) {
    const url = (await postgresUrl())!;
    gateway = await startGateway({
      database: { url },
      sessions: { queueSize: 60 },
      rateLimit: {
        client: { limit: client, ttl: '60s' },
        session: { limit: session, ttl: '60s' },
      },
    });
    const { baseUrl, auth } = gateway;
    const post = (method: string, params: unknown) =>
      postRpc(baseUrl, call(method, params), { headers: auth });
    const counters = async (prefix: string): Promise<number[]> => {
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        const { rows } = await db.query<{ hits: number }>(
          `SELECT "hits" FROM "rate_limit_counters" WHERE "key" LIKE $1 ORDER BY "hits"`,
          [`${prefix}%`],
        );
        return rows.map((row) => row.hits);
      } finally {
        await db.end();
      }
    };
    return { post, counters };
  }

  it('runs exactly the session limit of 40 messages sent to one session at once', async () => {
    const { post } = await boot(1000, 30);
    const { sessionKey } = (await post('session.create', {})).body.result;
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        post('session.message', { sessionKey, content: `m${i}` }),
      ),
    );
    const refused = replies.filter((reply) => reply.status === 429);
    expect(replies.filter((reply) => reply.body.result !== undefined)).toHaveLength(30);
    expect(refused).toHaveLength(10);
    for (const reply of refused) {
      expect(reply.body.error).toMatchObject({ code: -32005, data: { limit: 'session' } });
      expect(reply.headers.get('x-ratelimit-remaining-session')).toBe('0');
    }
    const history = (await post('session.history', { sessionKey, limit: 1000 })).body.result;
    expect(history.filter((e: { type: string }) => e.type === 'message.user')).toHaveLength(30);
  });

  it('refuses over the client limit without spending the session budget', async () => {
    const { post, counters } = await boot(6, 3);
    const one = (await post('session.create', {})).body.result.sessionKey;
    const two = (await post('session.create', {})).body.result.sessionKey;
    // 2 creates + 3 messages to `one`: the client has 1 call left.
    for (let i = 0; i < 3; i++) {
      expect((await post('session.message', { sessionKey: one, content: `m${i}` })).status).toBe(
        200,
      );
    }
    const replies = await Promise.all([
      post('session.message', { sessionKey: two, content: 'a' }),
      post('session.message', { sessionKey: two, content: 'b' }),
    ]);
    const ok = replies.find((reply) => reply.status === 200)!;
    const overClient = replies.find((reply) => reply.status !== 200)!;
    expect(ok).toBeDefined();
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(ok.headers.get('x-ratelimit-remaining-session')).toBe('2');
    expect(overClient.status).toBe(429);
    expect(overClient.body.error).toMatchObject({ code: -32005, data: { limit: 'client' } });
    // The refused call counted against the client limit only: `two` has spent one message.
    expect(await counters('session:')).toEqual([1, 3]);
    expect(await counters('client:')).toEqual([7]);
  });
});
