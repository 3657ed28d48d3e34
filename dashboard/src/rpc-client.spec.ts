import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../test/support/auth-tokens';
import { ALL_SCOPES, postRpc, startGateway, type TestGateway } from '../../test/support/gateway';
import {
  NOT_AUTHENTICATED,
  RpcClient,
  type ConnectionState,
  type SessionEvent,
  type WebSocketLike,
} from './rpc-client';

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());

/** A client on `ws`, remembering its sockets so a test can cut the line. */
function nodeClient(token = gateway.token, onResumed?: () => void) {
  const sockets: WebSocket[] = [];
  const states: ConnectionState[] = [];
  const client = new RpcClient({
    url: gateway.wsUrl,
    token,
    initialDelayMs: 20,
    maxDelayMs: 200,
    onStateChange: (state) => states.push(state),
    onResumed,
    webSocket: (url, protocols) => {
      const socket = new WebSocket(url, protocols);
      sockets.push(socket);
      return socket as unknown as WebSocketLike;
    },
  });
  return { client, sockets, states };
}

/** Waits for a condition; after 10 s fails with what it waited for and what it saw. */
function until(check: () => boolean, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + 10_000;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (check()) return resolve();
      if (Date.now() > deadline) {
        return reject(new Error(`gave up waiting for ${check.toString()} ${describe()}`));
      }
      setTimeout(poll, 2);
    };
    poll();
  });
}

describe('RpcClient', () => {
  it('calls methods by id and rejects JSON-RPC errors with their code', async () => {
    const { client } = nodeClient();
    await client.connect();
    const [agents, missing] = await Promise.all([
      client.call<Array<{ id: string }>>('agent.list'),
      client.call('agent.status', { agentId: 'nope' }).catch((error: unknown) => error),
    ]);
    expect(agents.map((a) => a.id)).toContain('echo');
    expect(missing).toMatchObject({ code: -32004 });
    client.close();
  });

  it('streams a turn to a followed session: deltas then the stored events', async () => {
    const { client } = nodeClient();
    await client.connect();
    const { sessionKey } = await client.call<{ sessionKey: string }>('session.create', {
      agentId: 'echo',
    });
    const events: SessionEvent[] = [];
    let streamed = '';
    await client.follow(sessionKey, {
      onEvent: (event) => events.push(event),
      onDelta: (delta) => (streamed += delta.delta),
    });
    const answer = await client.call<{ content: string; seq: number }>('session.message', {
      sessionKey,
      content: 'hello streaming world',
    });
    await until(() => events.some((e) => e.seq === answer.seq));
    expect(streamed).toBe('hello streaming world');
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['message.user', 'message.agent']),
    );
    client.close();
  });

  it('reconnects and resumes each followed session from its last seq, without gap or duplicate', async () => {
    let resumed = 0;
    const { client, sockets, states } = nodeClient(gateway.token, () => (resumed += 1));
    await client.connect();
    const { sessionKey } = await client.call<{ sessionKey: string }>('session.create', {
      agentId: 'echo',
    });
    const seqs: number[] = [];
    await client.follow(sessionKey, { onEvent: (event) => seqs.push(event.seq) });
    await client.call('session.message', { sessionKey, content: 'before the cut' });
    await until(() => seqs.length >= 2);

    // Cut the line, then let events happen while the client is away (over HTTP, same subject).
    sockets[0].terminate();
    await until(() => states.includes('reconnecting'));
    const missed = await postRpc(
      gateway.baseUrl,
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'session.message',
        params: { sessionKey, content: 'while away' },
      },
      { headers: gateway.auth },
    );
    expect(missed.body.result.content).toBe('while away');

    await until(
      () => resumed === 1,
      () => `resumed=${resumed} states=${states.join(',')} sockets=${sockets.length}`,
    );
    expect(sockets.length).toBeGreaterThanOrEqual(2);
    await client.call('session.message', { sessionKey, content: 'after the return' });
    const last = await postRpc(
      gateway.baseUrl,
      { jsonrpc: '2.0', id: 2, method: 'session.history', params: { sessionKey } },
      { headers: gateway.auth },
    );
    const stored: number[] = last.body.result.map((e: SessionEvent) => e.seq);
    await until(
      () => seqs.length >= stored.length,
      () => `seen=${seqs.join(',')} stored=${stored.join(',')} states=${states.join(',')}`,
    );
    expect(seqs).toEqual(stored);
    expect(client.lastSeq(sessionKey)).toBe(stored.at(-1));
    client.close();
  });

  it('refuses an expired token without reconnecting, as -32001', async () => {
    const expired = await signToken(
      { sub: 'test-user', scope: ALL_SCOPES },
      { exp: Math.floor(Date.now() / 1000) - 5 },
    );
    const { client, sockets, states } = nodeClient(expired);
    await expect(client.connect()).rejects.toMatchObject({ code: NOT_AUTHENTICATED });
    expect(states).toContain('expired');
    expect(sockets).toHaveLength(0);
  });

  it('notices a token expiring during the connection', async () => {
    const shortLived = await signToken(
      { sub: 'test-user', scope: ALL_SCOPES },
      // At least two seconds away, so it cannot lapse before the socket opens.
      { exp: Math.floor(Date.now() / 1000) + 3 },
    );
    const { client, states } = nodeClient(shortLived);
    await client.connect();
    await until(() => states.includes('expired'));
    await expect(client.call('agent.list')).rejects.toMatchObject({ code: NOT_AUTHENTICATED });
  });
});
