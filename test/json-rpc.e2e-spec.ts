import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CalculatorModule, CalculatorRpc } from './support/calculator.rpc.js';
import { postRpc, startGateway, WsTestClient, type TestGateway } from './support/gateway.js';

let gateway: TestGateway;
let ws: WsTestClient;

beforeAll(async () => {
  gateway = await startGateway({ gateway: { maxBatchSize: 6 } }, { imports: [CalculatorModule] });
  ws = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
});

afterAll(async () => {
  ws?.close();
  await gateway?.close();
});

/** One exchange over a transport: the reply, or undefined when the server sent nothing. */
type Exchange = (raw: string) => Promise<any>;

const overHttp: Exchange = async (raw) => {
  const reply = await postRpc(gateway.baseUrl, raw, { raw: true, headers: gateway.auth });
  if (reply.status === 204) {
    expect(reply.text).toBe('');
    return undefined;
  }
  expect(reply.status).toBe(200);
  expect(reply.headers.get('content-type')).toMatch(/application\/json/);
  return reply.body;
};

let sentinel = 0;
const overWs: Exchange = async (raw) => {
  // A request sent right after tells "no reply" from "a reply not yet here": frames on one socket
  // are answered in parallel, so wait for the sentinel and then for anything else.
  ws.send(raw);
  const id = `sentinel-${++sentinel}`;
  ws.send({ jsonrpc: '2.0', method: 'get_data', id });
  await ws.next((frame) => !Array.isArray(frame) && frame.id === id);
  await new Promise((resolve) => setTimeout(resolve, 50));
  return ws.frames.length ? ws.frames.shift() : undefined;
};

const sortById = (replies: any[]) =>
  [...replies].sort((a, b) => String(a.id).localeCompare(String(b.id)));

describe.each([
  ['HTTP', () => overHttp],
  ['WebSocket', () => overWs],
])('JSON-RPC 2.0 over %s', (_name, transport) => {
  const send: Exchange = (raw) => transport()(raw);

  describe('the specification examples (section 7)', () => {
    it('refuses positional params: this server takes params by name', async () => {
      const reply = await send(
        '{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}',
      );
      expect(reply).toMatchObject({ jsonrpc: '2.0', id: 1, error: { code: -32602 } });
      expect(reply.error.data.violations[0].message).toMatch(/by name/);
    });

    it('answers a call with named params', async () => {
      expect(
        await send(
          '{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}',
        ),
      ).toEqual({ jsonrpc: '2.0', result: 19, id: 3 });
      expect(
        await send(
          '{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 23, "subtrahend": 42}, "id": 4}',
        ),
      ).toEqual({ jsonrpc: '2.0', result: -19, id: 4 });
    });

    it('runs a notification and sends nothing back', async () => {
      const calculator = gateway.app.get(CalculatorRpc);
      const before = calculator.notifications.length;
      expect(
        await send('{"jsonrpc": "2.0", "method": "notify_hello", "params": {"values": [7]}}'),
      ).toBeUndefined();
      expect(calculator.notifications.length).toBe(before + 1);
      expect(await send('{"jsonrpc": "2.0", "method": "foobar"}')).toBeUndefined();
    });

    it('answers a non-existent method with -32601', async () => {
      expect(await send('{"jsonrpc": "2.0", "method": "foobar", "id": "1"}')).toEqual({
        jsonrpc: '2.0',
        error: { code: -32601, message: 'Method not found' },
        id: '1',
      });
    });

    it('answers invalid JSON with -32700', async () => {
      expect(await send('{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]')).toEqual({
        jsonrpc: '2.0',
        error: { code: -32700, message: 'Parse error' },
        id: null,
      });
    });

    it('answers an invalid request object with -32600', async () => {
      const reply = await send('{"jsonrpc": "2.0", "method": 1, "params": "bar"}');
      expect(reply).toMatchObject({
        jsonrpc: '2.0',
        error: { code: -32600, message: 'Invalid Request' },
        id: null,
      });
    });

    it('answers a batch of invalid JSON with one -32700', async () => {
      const reply = await send(
        '[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method"]',
      );
      expect(reply).toEqual({
        jsonrpc: '2.0',
        error: { code: -32700, message: 'Parse error' },
        id: null,
      });
    });

    it('answers an empty array with one -32600 object', async () => {
      const reply = await send('[]');
      expect(Array.isArray(reply)).toBe(false);
      expect(reply).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 }, id: null });
    });

    it('answers [1] and [1,2,3] with one -32600 per element', async () => {
      const one = await send('[1]');
      expect(one).toHaveLength(1);
      expect(one[0]).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 }, id: null });
      const three = await send('[1,2,3]');
      expect(three).toHaveLength(3);
      for (const reply of three) expect(reply).toMatchObject({ error: { code: -32600 }, id: null });
    });

    it('answers a mixed batch with one entry per request and none for notifications', async () => {
      const reply = await send(`[
        {"jsonrpc": "2.0", "method": "sum", "params": {"values": [1,2,4]}, "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": {"values": [7]}},
        {"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
      ]`);
      expect(reply).toHaveLength(5);
      const withIds = sortById(reply.filter((r: any) => r.id !== null));
      expect(withIds).toEqual([
        { jsonrpc: '2.0', result: 7, id: '1' },
        { jsonrpc: '2.0', result: 19, id: '2' },
        { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: '5' },
        { jsonrpc: '2.0', result: ['hello', 5], id: '9' },
      ]);
      expect(reply.filter((r: any) => r.id === null)).toEqual([
        expect.objectContaining({ error: expect.objectContaining({ code: -32600 }) }),
      ]);
    });

    it('sends nothing for a batch of notifications only', async () => {
      expect(
        await send(
          '[{"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},{"jsonrpc": "2.0", "method": "notify_hello", "params": {"values": [7]}}]',
        ),
      ).toBeUndefined();
    });
  });

  describe('edge cases', () => {
    it.each([
      ['a string', '"abc"'],
      ['a number', 7],
      ['null', null],
    ])('echoes an id that is %s with its type', async (_label, id) => {
      const reply = await send(`{"jsonrpc":"2.0","method":"get_data","id":${JSON.stringify(id)}}`);
      expect(reply).toEqual({
        jsonrpc: '2.0',
        result: ['hello', 5],
        id: JSON.parse(JSON.stringify(id)),
      });
    });

    it.each([
      ['a missing jsonrpc member', { method: 'get_data', id: 1 }],
      ['jsonrpc "1.0"', { jsonrpc: '1.0', method: 'get_data', id: 1 }],
      ['jsonrpc as a number', { jsonrpc: 2.0, method: 'get_data', id: 1 }],
      ['a missing method', { jsonrpc: '2.0', id: 1 }],
      ['a method that is null', { jsonrpc: '2.0', method: null, id: 1 }],
      ['params that are a string', { jsonrpc: '2.0', method: 'get_data', params: 'x', id: 1 }],
      ['params that are null', { jsonrpc: '2.0', method: 'get_data', params: null, id: 1 }],
      ['params that are a number', { jsonrpc: '2.0', method: 'get_data', params: 3, id: 1 }],
    ])('answers %s with -32600', async (_label, request) => {
      const reply = await send(JSON.stringify(request));
      expect(reply).toMatchObject({
        jsonrpc: '2.0',
        error: { code: -32600, message: 'Invalid Request' },
      });
      expect(reply.id).toBe(1);
    });

    it.each([
      ['an object', { a: 1 }],
      ['an array', [1]],
      ['a boolean', true],
    ])('answers an id that is %s with -32600 and id null', async (_label, id) => {
      const reply = await send(JSON.stringify({ jsonrpc: '2.0', method: 'get_data', id }));
      expect(reply).toMatchObject({ error: { code: -32600 }, id: null });
    });

    it('answers a top-level scalar with -32600', async () => {
      expect(await send('42')).toMatchObject({ error: { code: -32600 }, id: null });
      expect(await send('"x"')).toMatchObject({ error: { code: -32600 }, id: null });
    });

    it('refuses the reserved rpc. namespace for unknown names', async () => {
      expect(await send('{"jsonrpc":"2.0","method":"rpc.nothing","id":1}')).toMatchObject({
        error: { code: -32601 },
      });
    });

    it('answers -32602 with every violation: missing, wrong-typed and unknown params', async () => {
      const reply = await send(
        JSON.stringify({
          jsonrpc: '2.0',
          method: 'subtract',
          params: { minuend: 'x', extra: 1 },
          id: 1,
        }),
      );
      expect(reply.error.code).toBe(-32602);
      const paths = reply.error.data.violations.map((v: any) => v.path).sort();
      expect(paths).toEqual(['extra', 'minuend', 'subtrahend']);
    });

    it('answers a handler that throws with -32603 and a correlation id, never the message', async () => {
      const reply = await send('{"jsonrpc":"2.0","method":"explode","id":1}');
      expect(reply.error).toEqual({
        code: -32603,
        message: 'Internal error',
        data: { correlationId: expect.any(String) },
      });
      expect(JSON.stringify(reply)).not.toMatch(/hunter2|secret|at |\.ts/);
    });

    it('refuses a batch over the cap whole, running nothing', async () => {
      const calculator = gateway.app.get(CalculatorRpc);
      const before = calculator.notifications.length;
      const batch = Array.from({ length: 7 }, (_, i) => ({
        jsonrpc: '2.0',
        method: 'notify_hello',
        params: { values: [i] },
        ...(i === 0 ? { id: 1 } : {}),
      }));
      const reply = await send(JSON.stringify(batch));
      expect(reply).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 }, id: null });
      expect(reply.error.data.reason).toMatch(/exceeds the limit of 6/);
      expect(calculator.notifications.length).toBe(before);
    });

    it('accepts a batch at the cap', async () => {
      const batch = Array.from({ length: 6 }, (_, i) => ({
        jsonrpc: '2.0',
        method: 'get_data',
        id: i,
      }));
      expect(await send(JSON.stringify(batch))).toHaveLength(6);
    });

    it('serves rpc.discover with a schema for every method derived from its params class', async () => {
      const reply = await send('{"jsonrpc":"2.0","method":"rpc.discover","id":1}');
      const doc = reply.result;
      expect(doc.openrpc).toMatch(/^1\./);
      const subtract = doc.methods.find((m: any) => m.name === 'subtract');
      expect(subtract.paramStructure).toBe('by-name');
      expect(subtract.params).toEqual([
        { name: 'minuend', required: true, schema: { type: 'number' } },
        { name: 'subtrahend', required: true, schema: { type: 'number' } },
      ]);
      const names = doc.methods.map((m: any) => m.name);
      expect(names).toEqual(expect.arrayContaining(['rpc.discover', 'subtract', 'sum', 'sleep']));
      expect(doc.components.schemas.SubtractParams.additionalProperties).toBe(false);
    });
  });
});

describe('the rpc.discover document', () => {
  const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

  /** Every `$ref` in the document, with the path where it sits. */
  function refsIn(value: unknown, path = '$'): Array<{ path: string; ref: string }> {
    if (Array.isArray(value)) return value.flatMap((item, i) => refsIn(item, `${path}[${i}]`));
    if (typeof value !== 'object' || value === null) return [];
    return Object.entries(value).flatMap(([key, item]) =>
      key === '$ref' && typeof item === 'string'
        ? [{ path, ref: item }]
        : refsIn(item, `${path}.${key}`),
    );
  }

  /** The node a local JSON pointer (`#/a/b`) points at, or undefined. */
  function resolvePointer(doc: unknown, ref: string): unknown {
    return ref
      .slice(2)
      .split('/')
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>(
        (node, part) =>
          typeof node === 'object' && node !== null && Object.hasOwn(node, part)
            ? (node as Record<string, unknown>)[part]
            : undefined,
        doc,
      );
  }

  it('holds no dangling $ref: each one resolves inside the document', async () => {
    const doc = (await postRpc(gateway.baseUrl, { jsonrpc: '2.0', method: 'rpc.discover', id: 1 }))
      .body.result;
    const refs = refsIn(doc);
    // session.create's metadata once pointed at #/components/schemas/Object, defined nowhere.
    const dangling = refs.filter(({ ref }) => !ref.startsWith('#/') || !resolvePointer(doc, ref));
    expect(dangling).toEqual([]);
    const create = doc.methods.find((m: any) => m.name === 'session.create');
    expect(create.params.find((p: any) => p.name === 'metadata').schema).toMatchObject({
      type: 'object',
    });
  });

  it('lists the outage error (-32013) on every method that needs a token, and not on public ones', async () => {
    const doc = (await postRpc(gateway.baseUrl, { jsonrpc: '2.0', method: 'rpc.discover', id: 1 }))
      .body.result;
    const codes = (name: string): number[] =>
      doc.methods.find((m: any) => m.name === name).errors.map((e: any) => e.code);
    expect(codes('session.message')).toEqual(expect.arrayContaining([-32009, -32010, -32013]));
    expect(codes('agent.list')).toContain(-32013);
    expect(codes('rpc.discover')).not.toContain(-32013);
  });

  it('compiles every params, result and component schema with ajv in strict mode', async () => {
    const doc = (await postRpc(gateway.baseUrl, { jsonrpc: '2.0', method: 'rpc.discover', id: 1 }))
      .body.result;
    const ajv = addFormats(new Ajv({ strict: true, allErrors: true }));
    // The document is registered once, so `#/components/...` refs resolve against it.
    ajv.addSchema({ $id: 'openrpc', components: doc.components }, undefined, undefined, false);
    ajv.addKeyword('components');
    // Our one vendor keyword (JSON Schema cannot limit a value's size as JSON), documented.
    ajv.addKeyword('x-maxJsonLength');
    const rebase = (schema: unknown) =>
      JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openrpc#/components/'));

    const schemas: Array<[string, unknown]> = [
      ...Object.entries(doc.components.schemas as Record<string, unknown>).map(
        ([name, schema]) => [`components.schemas.${name}`, schema] as [string, unknown],
      ),
      ...doc.methods.flatMap((m: any) => [
        ...m.params.map((p: any) => [`${m.name} params.${p.name}`, p.schema]),
        [`${m.name} result`, m.result.schema],
      ]),
    ];
    const failures = schemas.flatMap(([where, schema]) => {
      try {
        ajv.compile(rebase(schema));
        return [];
      } catch (error) {
        return [`${where}: ${(error as Error).message}`];
      }
    });
    expect(failures).toEqual([]);
    expect(schemas.length).toBeGreaterThan(10);
    const create = doc.methods.find((m: any) => m.name === 'session.create');
    expect(create.params.find((p: any) => p.name === 'metadata').schema).toMatchObject({
      type: 'object',
      'x-maxJsonLength': 16_384,
    });
    const history = doc.methods.find((m: any) => m.name === 'session.history');
    expect(history.params.find((p: any) => p.name === 'limit').schema).toMatchObject({
      default: 100,
    });
  });
});

describe('POST /rpc over HTTP', () => {
  it('answers a body over the limit with 413 and a JSON-RPC error', async () => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      method: 'sum',
      params: { values: [] },
      id: 1,
      pad: 'x'.repeat(1_100_000),
    });
    const reply = await postRpc(gateway.baseUrl, big, { raw: true });
    expect(reply.status).toBe(413);
    expect(reply.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600 } });
  });

  it('answers a wrong content type with 415 and a JSON-RPC error', async () => {
    const reply = await postRpc(gateway.baseUrl, '{"jsonrpc":"2.0","method":"get_data","id":1}', {
      raw: true,
      headers: { ...gateway.auth, 'content-type': 'text/plain' },
    });
    expect(reply.status).toBe(415);
    expect(reply.body.error.message).toMatch(/application\/json/);
  });

  it('answers notifications only with 204 and no body', async () => {
    const reply = await postRpc(gateway.baseUrl, { jsonrpc: '2.0', method: 'get_data' });
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
  });

  it('answers malformed JSON with -32700, not Fastify’s 400', async () => {
    const reply = await postRpc(gateway.baseUrl, '{', { raw: true });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'Parse error' },
    });
  });
});

describe('/ws', () => {
  it('answers a frame that is not JSON with a -32700 frame', async () => {
    ws.send('not json at all');
    expect(await ws.next()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'Parse error' },
    });
  });

  it('selects the openclaw.v1 subprotocol and never echoes a bearer one', async () => {
    const client = await WsTestClient.connect(gateway.wsUrl, {
      protocols: ['openclaw.v1', `bearer.${gateway.token}`],
    });
    expect(client.socket.protocol).toBe('openclaw.v1');
    client.close();
  });

  it('refuses an upgrade that offers only foreign subprotocols', async () => {
    await expect(
      WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth, protocols: ['graphql-ws'] }),
    ).rejects.toThrow(/400/);
  });

  it('closes a connection whose frame exceeds the payload cap with 1009', async () => {
    const client = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    client.send('x'.repeat(1024 * 1024 + 10));
    expect(await client.closed).toBe(1009);
  });

  it('counts calls per method in /status', async () => {
    const status: any = await (
      await fetch(`${gateway.baseUrl}/status`, { headers: gateway.auth })
    ).json();
    expect(status.calls.byMethod.subtract.calls).toBeGreaterThan(0);
    expect(status.calls.byMethod.explode.failures).toBeGreaterThan(0);
    expect(status.connections.websocket).toBeGreaterThanOrEqual(1);
  });
});
