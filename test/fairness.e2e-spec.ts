import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CalculatorModule, CalculatorRpc } from './support/calculator.rpc.js';
import { startGateway, WsTestClient, type TestGateway } from './support/gateway.js';

const MAX_IN_FLIGHT = 8;
const FLOOD = 3000;
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startGateway(
    { ws: { maxInFlight: MAX_IN_FLIGHT } },
    { imports: [CalculatorModule] },
  );
});
afterAll(() => gateway?.close());

describe('fairness between WebSocket clients', () => {
  it('bounds a pipelining client’s calls in flight while another client is answered', async () => {
    const calculator = gateway.app.get(CalculatorRpc);
    calculator.maxActive = 0;
    const flooder = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    const polite = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });

    // One write of thousands of frames: the server must not take them all at once.
    const frames = Array.from({ length: FLOOD }, (_, i) =>
      JSON.stringify({ jsonrpc: '2.0', method: 'sleep', params: { ms: 2, tag: i }, id: i }),
    );
    for (const frame of frames) flooder.socket.send(frame);

    for (let i = 0; i < 20; i++) {
      expect(await polite.call('get_data', undefined, `p${i}`)).toMatchObject({
        result: ['hello', 5],
      });
    }
    // The polite client was served while the flood was still being worked off.
    expect(flooder.frames.length).toBeLessThan(FLOOD);

    const seen = new Set<number>();
    while (seen.size < FLOOD) seen.add((await flooder.next(() => true, 30_000)).id);
    expect(seen.size).toBe(FLOOD);
    expect(calculator.maxActive).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(calculator.maxActive).toBeGreaterThan(1);
    flooder.close();
    polite.close();
  });

  it('answers another client between rounds of a flood of calls that never wait on I/O', async () => {
    const flooder = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    const polite = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    // get_data resolves without I/O: a backlog started from finished calls' continuations would
    // run as one chain of microtasks and read no other socket until it was gone.
    for (let i = 0; i < FLOOD; i++) {
      flooder.socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'get_data', id: i }));
    }
    await flooder.next(() => true);

    const overtaken: number[] = [];
    for (let i = 0; i < 10; i++) {
      const before = flooder.frames.length;
      expect(await polite.call('get_data', undefined, `p${i}`)).toMatchObject({
        result: ['hello', 5],
      });
      overtaken.push(flooder.frames.length - before);
    }
    // Each polite call waits for a round or two of the flooder's in-flight budget, not its backlog.
    expect(Math.max(...overtaken)).toBeLessThanOrEqual(MAX_IN_FLIGHT * 8);
    expect(flooder.frames.length).toBeLessThan(FLOOD);
    flooder.close();
    polite.close();
  });

  it('closes a client that does not read its replies once its send buffer passes the cap', async () => {
    const slow = await startGateway(
      { ws: { maxBufferedBytes: 64 * 1024, maxInFlight: 1000 } },
      { imports: [CalculatorModule] },
    );
    try {
      const client = await WsTestClient.connect(slow.wsUrl, { headers: slow.auth });
      // Stop reading: replies pile up in the server's send buffer, then in the kernel's.
      (client.socket as any)._socket.pause();
      // 30 MB of replies: more than the kernel's socket buffers can hold.
      for (let i = 0; i < 300; i++) client.send({ jsonrpc: '2.0', method: 'blob', id: i });
      const status = async () =>
        (await (await fetch(`${slow.baseUrl}/status`, { headers: slow.auth })).json()) as any;
      for (let i = 0; i < 100 && (await status()).connections.websocket > 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await status()).connections.websocket).toBe(0);
    } finally {
      await slow.close();
    }
  });
});
