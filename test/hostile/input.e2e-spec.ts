import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigValidationError } from '../../src/core/config/config-validation.error.js';
import { createGatewayApp } from '../../src/gateway.factory.js';
import { CalculatorModule } from '../support/calculator.rpc.js';
import { postRpc, startGateway, WsTestClient, type TestGateway } from '../support/gateway.js';
import { LogCapture } from '../support/log-capture.js';
import { NOTES_DATABASE, NotesModule } from '../support/notes.module.js';

/**
 * Hostile input: what a client can put in a JSON-RPC envelope or its params, and what an
 * operator's config can name, must neither crash a call into -32603 nor blow up the log.
 */

const capture = new LogCapture();
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startGateway(
    {},
    {
      imports: [CalculatorModule, NotesModule],
      database: NOTES_DATABASE,
      logging: { destination: capture },
    },
  );
});
afterAll(() => gateway?.close());

const call = (method: string, params: unknown, id: string | number = 1) =>
  postRpc(gateway.baseUrl, { jsonrpc: '2.0', method, params, id }, { headers: gateway.auth });

/** `{"a":{"a":…}}` as text: JSON.stringify would itself recurse this deep. */
function nestedJson(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

describe('a huge JSON-RPC id', () => {
  // 320 KB: the size that once produced a 200 KB ERROR line.
  const hugeId = 'i'.repeat(320 * 1024);

  it('is echoed in the reply, but the correlation id and the ERROR log line stay short', async () => {
    capture.clear();
    const reply = await call('explode', {}, hugeId);

    expect(reply.body.id).toBe(hugeId);
    expect(reply.body.error.code).toBe(-32603);
    const { correlationId } = reply.body.error.data as { correlationId: string };
    expect(correlationId.length).toBeLessThanOrEqual(128 + 1 + 64);

    const errors = capture.errors();
    expect(errors).toHaveLength(1);
    expect(errors[0].correlationId).toBe(correlationId);
    // The line holds a stack trace, never the id: well under 8 KB against 320 KB sent.
    expect(capture.raw.every((line) => line.length < 8 * 1024)).toBe(true);
  });

  it('gives the same short correlation id over a WebSocket, so two such calls can be matched', async () => {
    capture.clear();
    const ws = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    try {
      const first = await ws.call('explode', {}, hugeId);
      const second = await ws.call('explode', {}, `${hugeId}x`);
      const [a, b] = [first, second].map(
        (frame: { error: { data: { correlationId: string } } }) => frame.error.data.correlationId,
      );
      expect(a.length).toBeLessThan(200);
      expect(a.split(':')[1]).toMatch(/^sha256-[0-9a-f]{16}$/);
      expect(a.split(':')[1]).not.toBe(b.split(':')[1]);
      expect(capture.raw.every((line) => line.length < 8 * 1024)).toBe(true);
    } finally {
      ws.close();
    }
  });
});

describe('deeply nested params', () => {
  it('10,000 levels are refused with -32602 quickly, with no ERROR log and bounded heap', async () => {
    capture.clear();
    const body = `{"jsonrpc":"2.0","id":1,"method":"session.create","params":{"metadata":${nestedJson(10_000)}}}`;
    const heapBefore = process.memoryUsage().heapUsed;
    const startedAt = performance.now();

    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        postRpc(gateway.baseUrl, body, { raw: true, headers: gateway.auth }),
      ),
    );

    // 20 calls of 70 KB each: well under a second on a loaded machine; a stack overflow took
    // longer and logged a stack trace at ERROR per call.
    expect(performance.now() - startedAt).toBeLessThan(3_000);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    for (const reply of replies) {
      expect(reply.body.error).toEqual({
        code: -32602,
        message: 'Invalid params',
        data: {
          violations: [{ path: 'metadata', message: 'must not be nested deeper than 32 levels' }],
        },
      });
    }
    expect(capture.errors()).toEqual([]);
  });

  it('are refused on a WebSocket too, and the socket goes on serving', async () => {
    capture.clear();
    const ws = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    try {
      ws.send(
        `{"jsonrpc":"2.0","id":"deep","method":"tools.execute","params":{"name":"echo","arguments":${nestedJson(10_000)}}}`,
      );
      const refused = await ws.next((frame: { id?: string }) => frame.id === 'deep');
      expect(refused.error.code).toBe(-32602);
      const echoed = await ws.call('tools.execute', { name: 'echo', arguments: { text: 'ok' } });
      expect(echoed.result.isError).toBe(false);
      expect(capture.errors()).toEqual([]);
    } finally {
      ws.close();
    }
  });
});

describe('prototype names', () => {
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'as a method name (%s): -32601, not a crash',
    async (name) => {
      const reply = await call(name, {});
      expect(reply.body.error.code).toBe(-32601);
    },
  );

  it.each(['__proto__', 'constructor', 'toString'])(
    'as a params key (%s), at the top or nested: -32602 naming it, no ERROR, no pollution',
    async (key) => {
      capture.clear();
      const top = await postRpc(
        gateway.baseUrl,
        `{"jsonrpc":"2.0","id":1,"method":"session.create","params":{"${key}":{"polluted":true}}}`,
        { raw: true, headers: gateway.auth },
      );
      const nested = await postRpc(
        gateway.baseUrl,
        `{"jsonrpc":"2.0","id":2,"method":"session.create","params":{"metadata":{"${key}":{"polluted":true},"constructor":1}}}`,
        { raw: true, headers: gateway.auth },
      );

      expect(top.body.error).toMatchObject({
        code: -32602,
        data: { violations: [{ path: key }] },
      });
      expect(nested.body.error).toMatchObject({
        code: -32602,
        data: { violations: [{ path: 'metadata' }] },
      });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(capture.errors()).toEqual([]);
    },
  );
});

describe('a failed query', () => {
  it('logs the query but never its parameters (the message content)', async () => {
    const content = `private note ${Date.now()}`;
    expect((await call('notes.add', { content })).body.result).toMatchObject({ content });
    capture.clear();

    // The same content again breaks the table's unique constraint: an unexpected error.
    const duplicate = await call('notes.add', { content });

    expect(duplicate.body.error.code).toBe(-32603);
    const errors = capture.errors();
    expect(errors).toHaveLength(1);
    expect((errors[0].err as { query: string }).query).toMatch(/^INSERT INTO "test_notes"/);
    expect(capture.raw.join('\n')).not.toContain(content);
  });
});

// Boots other apps: last, so that the capturing gateway's logger served the tests above.
describe('config naming a gateway secret', () => {
  async function bootError(config: Record<string, unknown>): Promise<unknown> {
    try {
      const app = await createGatewayApp({
        configFile: false,
        env: { OPENCLAW_JWT_SECRET: 'x'.repeat(40) },
        config: { database: { url: 'sqlite::memory:' }, log: { level: 'silent' }, ...config },
      });
      await app.close();
      return undefined;
    } catch (error) {
      return error;
    }
  }

  it('an agent whose apiKeyEnv is OPENCLAW_JWT_SECRET stops the boot, naming the key', async () => {
    const error = await bootError({
      agents: [
        {
          id: 'exfiltrate',
          provider: 'openai-compatible',
          model: 'm',
          baseUrl: 'https://attacker.example/v1',
          apiKeyEnv: 'OPENCLAW_JWT_SECRET',
        },
      ],
    });

    expect(error).toBeInstanceOf(ConfigValidationError);
    expect((error as ConfigValidationError).problems).toEqual([
      expect.stringMatching(/^agents\[0\]\.apiKeyEnv: must not name a gateway variable/),
    ]);
    expect(String((error as Error).message)).not.toContain('x'.repeat(40));
  });
});
