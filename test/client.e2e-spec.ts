import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectionError,
  createClient,
  RpcError,
  RpcErrorCode,
  type ClientOptions,
  type ConnectionState,
  type GatewayClient,
  type SessionDeltaItem,
  type SessionEvent,
  type SessionEventItem,
  type TurnItem,
} from '../src/client/index.js';
import { OAuthClientService } from '../src/core/auth/oauth-client.service.js';
import { WsConnectionRegistry } from '../src/core/ws/ws-connection.registry.js';
import { signToken } from './support/auth-tokens.js';
import { ALL_SCOPES, rpcOver, startGateway, type TestGateway } from './support/gateway.js';
import {
  FakeOpenAiServer,
  sendChunk,
  startStream,
  streamChunks,
  textChunks,
  toolCallChunks,
} from './support/openai-compatible-server.js';

let provider: FakeOpenAiServer;
let gateway: TestGateway;
const { ok } = rpcOver(() => gateway);
const clients: GatewayClient[] = [];

/** A client of the test gateway that the suite closes at the end. */
function client(options: Partial<ClientOptions> = {}): GatewayClient {
  const made = createClient({
    url: gateway.baseUrl,
    token: gateway.token,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    ...options,
  });
  clients.push(made);
  return made;
}

function recordStates(target: GatewayClient): ConnectionState[] {
  const states: ConnectionState[] = [];
  target.onStateChange((state) => states.push(state));
  return states;
}

/** Waits for a condition, polling; after 10 s fails with what it saw. */
async function until(check: () => boolean, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function stored(sessionKey: string): Promise<SessionEvent[]> {
  return (await ok('session.history', { sessionKey, limit: 1000 })) as SessionEvent[];
}

const seqs = (items: Array<{ seq: number }>): number[] => items.map((item) => item.seq);
const eventsOf = (items: TurnItem[]): SessionEventItem[] =>
  items.filter((item): item is SessionEventItem => item.kind === 'event');

async function rejection(promise: Promise<unknown>): Promise<RpcError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RpcError);
  return error as RpcError;
}

/** Collects a follow's items in the background until `stop` says so. */
function collect<T>(iterable: AsyncIterable<T>, stop: (item: T) => boolean): Promise<T[]> {
  return (async () => {
    const items: T[] = [];
    for await (const item of iterable) {
      items.push(item);
      if (stop(item)) break;
    }
    return items;
  })();
}

beforeAll(async () => {
  provider = await FakeOpenAiServer.start();
  gateway = await startGateway({
    agents: [provider.agent({ name: 'Test LLM', tools: ['echo'] })],
  });
});

afterAll(async () => {
  clients.forEach((c) => c.close());
  await gateway?.close();
  await provider?.close();
});

describe('the client over a WebSocket', () => {
  it('streams a turn: the user message, the deltas, the answer event, then the reply', async () => {
    const c = client();
    const { sessionKey } = await c.session.create({ agentId: 'echo' });
    const items: TurnItem[] = [];
    for await (const item of c.session.stream(sessionKey, 'hello streaming world')) {
      items.push(item);
    }
    expect(items.map((item) => (item.kind === 'event' ? item.type : item.kind))).toEqual([
      'message.user',
      'delta',
      'delta',
      'delta',
      'message.agent',
      'reply',
    ]);
    const deltas = items.filter((item): item is SessionDeltaItem => item.kind === 'delta');
    expect(deltas.map((d) => d.delta).join('')).toBe('hello streaming world');
    expect(deltas.map((d) => d.index)).toEqual([0, 1, 2]);
    const reply = items.at(-1);
    expect(reply).toMatchObject({ kind: 'reply', response: { content: 'hello streaming world' } });
    expect(seqs(eventsOf(items))).toEqual([2, 3]);
    expect(eventsOf(items).map(({ kind: _kind, sessionKey: _key, ...event }) => event)).toEqual(
      (await stored(sessionKey)).slice(1),
    );
  });

  it('resumes a turn cut by the server mid-stream: every event once, in order, and the turn ran once', async () => {
    const c = client();
    const states = recordStates(c);
    const { sessionKey } = await c.session.create({ agentId: 'llm' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    provider.next(
      (_request, res) =>
        streamChunks(res, [
          textChunks('Checking.')[1],
          ...toolCallChunks('call_1', 'echo', { text: 'ping' }),
        ]),
      async (_request, res: ServerResponse) => {
        const [role, first, ...rest] = textChunks('The tool ', 'said ', 'ping.');
        startStream(res);
        sendChunk(res, role);
        sendChunk(res, first);
        await gate;
        rest.forEach((chunk) => sendChunk(res, chunk));
        sendChunk(res, '[DONE]');
        res.end();
      },
    );
    const requestsBefore = provider.received.length;
    // A follow on the same client sees the same events, also once each.
    const follow = c.session.follow(sessionKey);
    await follow.caughtUp;
    const followed = collect(follow, (event) => event.type === 'message.agent');

    const items: TurnItem[] = [];
    const registry = gateway.app.get(WsConnectionRegistry);
    for await (const item of c.session.stream(sessionKey, 'Use the echo tool')) {
      items.push(item);
      if (item.kind === 'delta' && item.delta === 'The tool ') {
        // The server cuts the line mid-turn; the turn goes on while the client is away.
        [...registry.all()].forEach((connection) => connection.socket.terminate());
        release();
      }
    }

    const log = await stored(sessionKey);
    const turn = log.filter((event) => event.seq > 1);
    expect(turn.map((event) => event.type)).toEqual([
      'message.user',
      'tool.call',
      'tool.result',
      'message.agent',
    ]);
    expect(seqs(eventsOf(items))).toEqual(seqs(turn));
    expect(items.at(-1)).toMatchObject({
      kind: 'reply',
      response: { content: 'The tool said ping.', seq: turn.at(-1)!.seq },
    });
    expect(items.filter((item) => item.kind === 'reply')).toHaveLength(1);
    const deltaKeys = items
      .filter((item): item is SessionDeltaItem => item.kind === 'delta')
      .map((d) => `${d.messageId}:${d.index}`);
    expect(new Set(deltaKeys).size).toBe(deltaKeys.length);
    // The message was re-sent with its idempotency key: the model was asked twice (two steps), not four.
    expect(provider.received.length - requestsBefore).toBe(2);
    expect(states).toEqual(expect.arrayContaining(['reconnecting', 'open']));
    expect(states.indexOf('reconnecting')).toBeLessThan(states.lastIndexOf('open'));
    expect(seqs(await followed)).toEqual(seqs(log));
  });

  it('resumes a followed session from its last seq after a drop, without gap or duplicate', async () => {
    const c = client();
    const states = recordStates(c);
    const { sessionKey } = await c.session.create({ agentId: 'echo' });
    const follow = c.session.follow(sessionKey);
    const seen: SessionEventItem[] = [];
    const reading = (async () => {
      for await (const event of follow) seen.push(event);
    })();
    await c.session.message({ sessionKey, content: 'before the cut' });
    await until(() => seen.length >= 3);

    const registry = gateway.app.get(WsConnectionRegistry);
    [...registry.all()].forEach((connection) => connection.socket.terminate());
    // Events happen while the client is away (another client, over HTTP, same subject).
    await ok('session.message', { sessionKey, content: 'while away' });
    await ok('tools.execute', { name: 'echo', arguments: { text: 'also away' }, sessionKey });
    await c.session.message({ sessionKey, content: 'after the return' });
    const log = await stored(sessionKey);
    await until(
      () => seen.length >= log.length,
      () => `seen ${seqs(seen).join(',')} of ${seqs(log).join(',')}`,
    );
    expect(seqs(seen)).toEqual(seqs(log));
    expect(seqs(log)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(states).toContain('reconnecting');
    await c.session.end({ sessionKey });
    await reading;
    expect(seen.at(-1)?.type).toBe('session.ended');
  });

  it('follows from a seq: the events after it, then live ones', async () => {
    const c = client();
    const { sessionKey } = await c.session.create({ agentId: 'echo' });
    await c.session.message({ sessionKey, content: 'one' });
    const follow = c.session.follow(sessionKey, { afterSeq: 2, deltas: true });
    const items = collect(follow, (item) => item.kind === 'event' && item.seq === 5);
    await follow.caughtUp;
    await c.session.message({ sessionKey, content: 'two words' });
    const got = await items;
    expect(got.filter((i) => i.kind === 'event').map((i) => i.seq)).toEqual([3, 4, 5]);
    expect(got.filter((i) => i.kind === 'delta').map((i) => i.delta)).toEqual(['two ', 'words']);
  });

  it('sends a batch in one frame; each call answers on its own', async () => {
    const c = client();
    const [agents, missing, created] = await c.batch((b) => [
      b.agent.list(),
      b.agent.status({ agentId: 'nope' }),
      b.session.create({ agentId: 'echo' }),
    ]);
    expect(agents.ok && agents.value.map((a) => a.id)).toContain('echo');
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.error).toMatchObject({ code: -32004, kind: 'NotFound' });
    expect(created.ok && created.value.sessionKey).toMatch(/.+/);
  });

  it('surfaces JSON-RPC errors as RpcError with their code, kind and data', async () => {
    const c = client();
    const invalid = await rejection(c.session.history({ sessionKey: 'x', limit: 5000 }));
    expect([invalid.code, invalid.kind]).toEqual([RpcErrorCode.InvalidParams, 'InvalidParams']);
    expect(invalid.violations?.map((v) => v.path)).toContain('limit');

    const notFound = await rejection(c.agent.status({ agentId: 'nope' }));
    expect([notFound.code, notFound.kind]).toEqual([-32004, 'NotFound']);

    const unknown = await rejection(c.call('no.such.method'));
    expect(unknown.kind).toBe('MethodNotFound');

    const { sessionKey } = await c.session.create({ agentId: 'echo' });
    await c.session.end({ sessionKey });
    const ended = await rejection(c.session.message({ sessionKey, content: 'late' }));
    expect(ended.kind).toBe('Conflict');

    const reader = client({
      token: await signToken({ sub: 'reader', scope: 'agents:read' }),
    });
    const forbidden = await rejection(reader.session.create({ agentId: 'echo' }));
    expect([forbidden.code, forbidden.kind]).toEqual([-32003, 'Forbidden']);
    expect(forbidden.requiredScope).toBe('sessions:write');
  });

  it('refuses an expired token as -32001 without opening a socket, and stops', async () => {
    const expired = await signToken(
      { sub: 'test-user', scope: ALL_SCOPES },
      { exp: Math.floor(Date.now() / 1000) - 5 },
    );
    let sockets = 0;
    const c = client({
      token: expired,
      webSocket: class {
        constructor() {
          sockets++;
          throw new Error('no socket expected');
        }
      } as unknown as ClientOptions['webSocket'],
    });
    const states = recordStates(c);
    const error = await rejection(c.connect());
    expect(error.kind).toBe('Unauthenticated');
    expect(states.at(-1)).toBe('expired');
    expect(sockets).toBe(0);
    expect((await rejection(c.agent.list())).code).toBe(-32001);
  });

  it('stops with -32001 when a fixed token expires during the connection', async () => {
    const shortLived = await signToken(
      { sub: 'test-user', scope: ALL_SCOPES },
      { exp: Math.floor(Date.now() / 1000) + 2 },
    );
    const c = client({ token: shortLived });
    const states = recordStates(c);
    await c.connect();
    await until(() => states.includes('expired'));
    expect((await rejection(c.agent.list())).kind).toBe('Unauthenticated');
  });

  it('fails a call that is not safe to repeat when the line is cut before its reply', async () => {
    const c = client();
    const { sessionKey } = await c.session.create({ agentId: 'llm' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    provider.next(async (_request, res) => {
      started();
      await gate;
      await streamChunks(res, textChunks('done'));
    });
    // Without an idempotency key (the untyped call adds none) a message is not safe to repeat.
    const call = c.call('session.message', { sessionKey, content: 'no key' });
    await running;
    [...gateway.app.get(WsConnectionRegistry).all()].forEach((x) => x.socket.terminate());
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    release();
    expect(error).toBeInstanceOf(ConnectionError);
    // The client is usable again after it reconnects.
    expect((await c.agent.list()).map((a) => a.id)).toContain('echo');
  });
});

describe('the client over HTTP', () => {
  it('calls, batches and surfaces errors over POST /rpc', async () => {
    const c = client({ transport: 'http' });
    const { sessionKey } = await c.session.create({ agentId: 'echo' });
    const reply = await c.session.message({ sessionKey, content: 'over http' });
    expect(reply.content).toBe('over http');
    const [history, missing] = await c.batch((b) => [
      b.session.history({ sessionKey }),
      b.agent.status({ agentId: 'nope' }),
    ]);
    expect(history.ok && history.value.map((e) => e.type)).toEqual([
      'session.created',
      'message.user',
      'message.agent',
    ]);
    expect(!missing.ok && missing.error).toMatchObject({ kind: 'NotFound' });
    const invalid = await rejection(c.session.history({ sessionKey, limit: 0 }));
    expect(invalid.violations?.map((v) => v.path)).toContain('limit');
    expect(c.state).toBe('open');
  });

  it('streams only the reply, and follows a session by reading its log', async () => {
    const c = client({ transport: 'http' });
    const { sessionKey } = await c.session.create({ agentId: 'echo' });
    const items: TurnItem[] = [];
    for await (const item of c.session.stream(sessionKey, 'hi there')) items.push(item);
    expect(items).toEqual([
      { kind: 'reply', sessionKey, response: expect.objectContaining({ content: 'hi there' }) },
    ]);
    const follow = c.session.follow(sessionKey, { pollIntervalMs: 20 });
    const events = collect(follow, (event) => event.seq === 5);
    await follow.caughtUp;
    await c.session.message({ sessionKey, content: 'later' });
    expect(seqs(await events)).toEqual([1, 2, 3, 4, 5]);
  });

  it('answers -32001 for an expired token', async () => {
    const expired = await signToken(
      { sub: 'test-user', scope: ALL_SCOPES },
      { exp: Math.floor(Date.now() / 1000) - 5 },
    );
    const c = client({ transport: 'http', token: expired });
    expect((await rejection(c.agent.list())).kind).toBe('Unauthenticated');
  });
});

describe('token refresh', () => {
  // Short tokens and no clock tolerance: a socket whose token lapses is closed (4001) at once.
  let shortGateway: TestGateway;
  beforeAll(async () => {
    shortGateway = await startGateway({
      auth: { jwt: { accessTokenTtl: 3000, clockTolerance: 0 } },
    });
  });
  afterAll(() => shortGateway?.close());

  /** Sends turns until `enough()`, checking the stream of a followed session stays whole. */
  async function keepTalking(c: GatewayClient, enough: () => boolean): Promise<void> {
    const states = recordStates(c);
    const { sessionKey } = await c.session.create({ agentId: 'echo' });
    const follow = c.session.follow(sessionKey);
    const seen: SessionEventItem[] = [];
    const reading = (async () => {
      for await (const event of follow) seen.push(event);
    })();
    let turns = 0;
    while (!enough()) {
      await c.session.message({ sessionKey, content: `turn ${++turns}` });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const log = await c.session.history({ sessionKey, limit: 1000 });
    await until(() => seen.length >= log.length);
    expect(seqs(seen)).toEqual(seqs(log));
    // Moved to each new token before the old one lapsed: never cut, never reconnecting.
    expect(states).not.toContain('reconnecting');
    expect(states).not.toContain('expired');
    // The sockets of the old tokens were closed once their calls were answered.
    const registry = shortGateway.app.get(WsConnectionRegistry);
    await until(
      () => registry.size === 1,
      () => `${registry.size} connections`,
    );
    follow.close();
    await reading;
    c.close();
    await until(() => registry.size === 0);
  }

  it('gets new tokens from /auth/token with client credentials before they expire', async () => {
    const { clientId, clientSecret } = await shortGateway.app
      .get(OAuthClientService)
      .create({ name: 'bot', scopes: ['sessions:read', 'sessions:write', 'agents:read'] });
    let tokenRequests = 0;
    const c = createClient({
      url: shortGateway.baseUrl,
      clientId,
      clientSecret,
      fetch: (input, init) => {
        const url = input instanceof Request ? input.url : input.toString();
        if (url.endsWith('/auth/token')) tokenRequests++;
        return fetch(input, init);
      },
    });
    clients.push(c);
    await keepTalking(c, () => tokenRequests >= 3);
  });

  it('calls getToken again before the token expires', async () => {
    let issued = 0;
    const c = createClient({
      url: shortGateway.wsUrl,
      getToken: () => {
        issued++;
        return signToken(
          { sub: 'test-user', scope: ALL_SCOPES },
          { exp: Math.floor(Date.now() / 1000) + 3 },
        );
      },
    });
    clients.push(c);
    await keepTalking(c, () => issued >= 3);
  });
});
