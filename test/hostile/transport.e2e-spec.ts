import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { WsConnectionRegistry } from '../../src/core/ws/ws-connection.registry.js';
import { WsCloseCode } from '../../src/core/ws/ws-close-code.js';
import { WsRpcConnection } from '../../src/core/ws/ws-rpc-connection.js';
import { signToken } from '../support/auth-tokens.js';
import { CalculatorModule } from '../support/calculator.rpc.js';
import { LogCapture } from '../support/log-capture.js';
import {
  postRpc,
  rpcOver,
  startGateway,
  WsTestClient,
  type TestGateway,
} from '../support/gateway.js';

// Small bounds so that each attack plays out in a second or two.
const REQUEST_TIMEOUT = 1_000;
const HEADERS_TIMEOUT = 500;
// Node checks its timeouts every quarter of the shortest one here (at most every second).
const CHECK_SLACK = 500;
const MAX_BUFFERED = 64 * 1024;
/** What the test method `blob` answers: 100 KB, larger than MAX_BUFFERED. */
const BLOB = 100_000;

let gateway: TestGateway;
const { ok } = rpcOver(() => gateway);
const logs = new LogCapture();

beforeAll(async () => {
  gateway = await startGateway(
    {
      gateway: { requestTimeout: REQUEST_TIMEOUT, headersTimeout: HEADERS_TIMEOUT },
      ws: { maxBufferedBytes: MAX_BUFFERED },
      auth: { jwt: { clockTolerance: 0 } },
    },
    { imports: [CalculatorModule], logging: { destination: logs } },
  );
});
afterAll(() => gateway?.close());
afterEach(() => vi.restoreAllMocks());

/** Opens a raw TCP connection to the gateway, records what it answers and when it hangs up. */
async function rawClient(): Promise<{
  socket: Socket;
  received: () => string;
  closed: Promise<number>;
}> {
  const { port } = new URL(gateway.baseUrl);
  const socket = connect(Number(port), '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const openedAt = Date.now();
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => resolve(Date.now() - openedAt)),
  );
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, received: () => received, closed };
}

/** Connects a WebSocket client and hooks the gateway's side of it: `onSent` sees every frame. */
async function connectWatched(
  headers: Record<string, string>,
  onSent: (frame: string, socket: WebSocket) => void,
): Promise<{ client: WsTestClient; connection: WsRpcConnection }> {
  const registry = gateway.app.get(WsConnectionRegistry);
  const before = new Set(registry.all());
  const client = await WsTestClient.connect(gateway.wsUrl, { headers });
  const connection = [...registry.all()].find((c) => !before.has(c));
  if (!connection) throw new Error('the gateway holds no new connection');
  const { socket } = connection;
  const send = socket.send.bind(socket) as (data: string) => void;
  socket.send = ((data: string) => {
    send(data);
    onSent(data, socket);
  }) as typeof socket.send;
  return { client, connection };
}

function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('slow HTTP clients', () => {
  it('drops a POST whose body never arrives (Content-Length 100, 1 byte) within requestTimeout, while calls are served', async () => {
    const slow = await rawClient();
    slow.socket.write(
      'POST /rpc HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
    );
    // Meanwhile everyone else is answered at once.
    const startedAt = Date.now();
    expect(await ok('agent.list', {})).toEqual(expect.any(Array));
    expect(Date.now() - startedAt).toBeLessThan(REQUEST_TIMEOUT);

    const heldFor = await slow.closed;
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(heldFor).toBeGreaterThanOrEqual(REQUEST_TIMEOUT - 50);
    expect(heldFor).toBeLessThan(REQUEST_TIMEOUT + CHECK_SLACK + 500);
    // A client that left is no server fault: a flood of them must not flood the log at ERROR.
    await ok('agent.list', {});
    expect(logs.errors()).toEqual([]);
  });

  it('drops 100 slowloris clients trickling header bytes within headersTimeout', async () => {
    const clients = await Promise.all(Array.from({ length: 100 }, () => rawClient()));
    for (const client of clients) client.socket.write('POST /rpc HTTP/1.1\r\nHost: gateway\r\n');
    // A byte every 50 ms: the bound is on the whole headers, not on silence between bytes.
    const trickle = setInterval(() => {
      for (const client of clients) if (client.socket.writable) client.socket.write('X');
    }, 50);
    try {
      const heldFor = await Promise.all(clients.map((client) => client.closed));
      expect(Math.max(...heldFor)).toBeLessThan(HEADERS_TIMEOUT + CHECK_SLACK + 500);
      for (const client of clients) expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(trickle);
    }
  });

  it('drops a connection that sends nothing at all within headersTimeout', async () => {
    const idle = await rawClient();
    expect(await idle.closed).toBeLessThan(HEADERS_TIMEOUT + CHECK_SLACK + 500);
  });

  it('does not cut a call whose answer takes longer than requestTimeout', async () => {
    const sleepFor = REQUEST_TIMEOUT * 2;
    const reply = await postRpc(gateway.baseUrl, {
      jsonrpc: '2.0',
      id: 1,
      method: 'sleep',
      params: { ms: sleepFor, tag: 7 },
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ id: 1, result: 7 });
  });
});

describe('WebSocket clients and the send buffer', () => {
  it('keeps open a client that reads, however large each reply is (100 KB replies, 64 KB cap)', async () => {
    const client = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    for (let i = 0; i < 5; i++) {
      const reply = await client.call('blob', undefined, i);
      expect(reply.result).toHaveLength(BLOB);
    }
    expect(await client.call('get_data', undefined, 'after')).toMatchObject({
      result: ['hello', 5],
    });
    expect(client.closeCode).toBeUndefined();
    client.close();
  });

  it('closes a client that never reads with 1008, holding at most the cap plus one reply for it', async () => {
    const closeSpy = vi.spyOn(WsRpcConnection.prototype, 'close');
    collectGarbage();
    const baseline = process.memoryUsage().arrayBuffers;
    // What the gateway holds for this client, right after each frame it sends.
    let peakBuffered = 0;
    let peakExternal = 0;
    const { client, connection } = await connectWatched(gateway.auth, (_frame, socket) => {
      peakBuffered = Math.max(peakBuffered, socket.bufferedAmount);
      peakExternal = Math.max(peakExternal, process.memoryUsage().arrayBuffers - baseline);
    });

    // Stop reading, then ask for 60 MB of replies: far more than the kernel's socket buffers.
    (client.socket as unknown as { _socket: Socket })._socket.pause();
    for (let i = 0; i < 600; i++) client.send({ jsonrpc: '2.0', method: 'blob', id: i });

    const deadline = Date.now() + 10_000;
    while (connection.isOpen && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(connection.isOpen).toBe(false);
    expect(closeSpy.mock.contexts).toContain(connection);
    const call = closeSpy.mock.calls[closeSpy.mock.contexts.indexOf(connection)];
    expect(call[0]).toBe(WsCloseCode.PolicyViolation);
    // The gateway held the cap plus one reply (and its JSON envelope), never the 60 MB asked for.
    expect(peakBuffered).toBeLessThanOrEqual(MAX_BUFFERED + BLOB + 1024);
    expect(peakExternal).toBeLessThan(8 * 1024 * 1024);
    client.socket.terminate();
  });
});

describe('a WebSocket whose token expires', () => {
  it('is closed with 4001 at exp without sending anything, and gets no event after it', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const shortLived = await signToken(
      { sub: 'test-user', scope: 'sessions:read sessions:write' },
      { exp },
    );
    // When the gateway sent each event (the client's clock would add delivery latency).
    const eventsSentAt: number[] = [];
    const { client } = await connectWatched({ authorization: `Bearer ${shortLived}` }, (frame) => {
      if (frame.includes('"method":"session.event"')) eventsSentAt.push(Date.now());
    });
    let closedAt = 0;
    void client.closed.then(() => (closedAt = Date.now()));

    // The socket follows a session it created; from here on it only listens.
    const { result } = await client.call('session.create', {});
    const { sessionKey } = result as { sessionKey: string };

    // Another token of the same subject keeps appending events over HTTP, past the expiry.
    const sentAfterExpiry: number[] = [];
    const deadline = exp * 1000 + 3_000;
    while (closedAt === 0 || Date.now() < closedAt + 300) {
      if (Date.now() > deadline) break;
      await ok('session.message', { sessionKey, content: 'still there?' });
      if (Date.now() > exp * 1000) sentAfterExpiry.push(Date.now());
    }

    expect(client.closeCode).toBe(WsCloseCode.Unauthenticated);
    expect(closedAt).toBeGreaterThanOrEqual(exp * 1000);
    expect(closedAt - exp * 1000).toBeLessThan(1_000);
    expect(sentAfterExpiry.length).toBeGreaterThan(0);
    expect(eventsSentAt.length).toBeGreaterThan(0);
    // Each time is read just after the gateway's own check (`now < exp`) let the frame go, so it
    // may land on the boundary millisecond itself, never past it.
    expect(Math.max(...eventsSentAt)).toBeLessThanOrEqual(exp * 1000);
    const received = client.frames.filter(
      (frame: { method?: string }) => frame.method === 'session.event',
    );
    expect(received).toHaveLength(eventsSentAt.length);
  });
});
