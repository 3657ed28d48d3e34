import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WsConnectionRegistry } from '../src/core/ws/ws-connection.registry.js';
import { startGateway, WsTestClient, type TestGateway } from './support/gateway.js';
import { WaitingModule, WaitingRpc } from './support/waiting.module.js';

/** `$/cancelRequest` at the JSON-RPC level: which call it reaches, and what it costs. */
describe('$/cancelRequest over WebSocket', () => {
  let gateway: TestGateway;
  let waiting: WaitingRpc;
  const clients: WsTestClient[] = [];
  const connect = async () => {
    const client = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    clients.push(client);
    return client;
  };
  const cancel = (client: WsTestClient, id: unknown) =>
    client.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id } });
  const request = (client: WsTestClient, id: string | number, method: string, params = {}) =>
    client.send({ jsonrpc: '2.0', id, method, params });
  /** What the gateway keeps for cancellation on every open connection, summed. */
  const booked = () =>
    [...gateway.app.get(WsConnectionRegistry).all()].reduce((n, c) => n + c.calls.size, 0);

  beforeAll(async () => {
    gateway = await startGateway({ ws: { maxInFlight: 2 } }, { imports: [WaitingModule] });
    waiting = gateway.app.get(WaitingRpc);
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await gateway?.close();
  });

  it('cancels the call with that id: its signal aborts and it answers -32800', async () => {
    const client = await connect();
    waiting.started.reset();
    request(client, 'a', 'wait.forCancel');
    await waiting.started.promise;
    cancel(client, 'a');
    expect(await client.next((f) => f.id === 'a')).toEqual({
      jsonrpc: '2.0',
      id: 'a',
      error: { code: -32800, message: 'Request cancelled' },
    });
    expect(waiting.outcomes.at(-1)).toBe('aborted');
    expect(booked()).toBe(0);
  });

  it('answers -32800 even when the handler never looks at its signal', async () => {
    const client = await connect();
    waiting.started.reset();
    request(client, 5, 'wait.ignoring', { ms: 200 });
    await waiting.started.promise;
    cancel(client, 5);
    expect((await client.next((f) => f.id === 5)).error.code).toBe(-32800);
  });

  it("ignores another connection's ids, unknown ids and malformed params", async () => {
    const [owner, other] = [await connect(), await connect()];
    waiting.started.reset();
    request(owner, 'mine', 'wait.forCancel', { ms: 300 });
    await waiting.started.promise;
    cancel(other, 'mine');
    cancel(owner, 'unknown');
    cancel(owner, null);
    owner.send({ jsonrpc: '2.0', method: '$/cancelRequest' });
    owner.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: ['mine'] });
    owner.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: { id: 'mine' } } });
    expect(await owner.next((f) => f.id === 'mine')).toMatchObject({ result: 'elapsed' });
    // Notifications: nothing came back for any of them, on either connection.
    expect(owner.frames).toEqual([]);
    expect(other.frames).toEqual([]);
  });

  it('cancels one element of a batch by its id; the others answer as usual', async () => {
    const client = await connect();
    waiting.started.reset();
    client.send([
      { jsonrpc: '2.0', id: 'slow', method: 'wait.forCancel', params: {} },
      { jsonrpc: '2.0', id: 'quick', method: 'wait.forCancel', params: { ms: 50 } },
    ]);
    await waiting.started.promise;
    cancel(client, 'slow');
    const replies = await client.next((f) => Array.isArray(f));
    expect(replies).toEqual(
      expect.arrayContaining([
        { jsonrpc: '2.0', id: 'slow', error: { code: -32800, message: 'Request cancelled' } },
        { jsonrpc: '2.0', id: 'quick', result: 'elapsed' },
      ]),
    );
  });

  it('reaches a call at the in-flight bound, without waiting behind it', async () => {
    const client = await connect();
    waiting.started.reset();
    request(client, 1, 'wait.forCancel');
    request(client, 2, 'wait.forCancel');
    await waiting.started.promise;
    await waitUntil(() => booked() === 2);
    // Both slots are taken (ws.maxInFlight: 2): a call would wait, the cancel does not.
    cancel(client, 1);
    expect((await client.next((f) => f.id === 1)).error.code).toBe(-32800);
    expect((await client.call('wait.forCancel', { ms: 10 }, 3)).result).toBe('elapsed');
    cancel(client, 2);
    expect((await client.next((f) => f.id === 2)).error.code).toBe(-32800);
  });

  it('answers a $/cancelRequest sent with an id (null), and one over HTTP is not found', async () => {
    const client = await connect();
    const reply = await client.call('$/cancelRequest', { id: 'nothing' }, 'c');
    expect(reply).toEqual({ jsonrpc: '2.0', id: 'c', result: null });
    const http = await fetch(`${gateway.baseUrl}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...gateway.auth },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: '$/cancelRequest', params: { id: 1 } }),
    });
    expect(((await http.json()) as { error: { code: number } }).error.code).toBe(-32601);
  });

  it('a flood of cancels with random and huge ids stores nothing and cancels nothing else', async () => {
    const client = await connect();
    waiting.started.reset();
    request(client, 'keep', 'wait.forCancel');
    await waiting.started.promise;
    const huge = 'x'.repeat(20_000);
    for (let i = 0; i < 1500; i++) {
      cancel(client, i % 3 === 0 ? Math.random() : i % 3 === 1 ? `${huge}${i}` : i);
    }
    // A frame sent after the flood is answered after it: the flood has been read by then.
    expect((await client.call('wait.forCancel', { ms: 0 }, 'after')).result).toBe('elapsed');
    // Still running, the only thing booked: the flood cancelled nothing and left nothing.
    expect(booked()).toBe(1);
    expect(client.frames).toEqual([]);
    cancel(client, 'keep');
    expect((await client.next((f) => f.id === 'keep')).error.code).toBe(-32800);
    expect(booked()).toBe(0);
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
