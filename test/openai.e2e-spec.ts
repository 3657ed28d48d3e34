import OpenAI, {
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LifecycleService } from '../src/core/health/lifecycle.service.js';
import { signToken } from './support/auth-tokens.js';
import { postRpc, startGateway, type TestGateway } from './support/gateway.js';
import {
  FakeOpenAiServer,
  sendChunk,
  startStream,
  streamChunks,
  textChunks,
} from './support/openai-compatible-server.js';

const USER_SCOPES = 'sessions:read sessions:write agents:read';
const now = (): number => Math.floor(Date.now() / 1000);

/** What an OpenAI client needs to reach this gateway: base URL and a JWT as the API key. */
function openai(
  gateway: TestGateway,
  apiKey: string,
  defaultHeaders: Record<string, string> = {},
): OpenAI {
  // No retries: a test asserts the first answer (the SDK would retry 429 and 5xx by itself).
  return new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey, maxRetries: 0, defaultHeaders });
}

/** The error an OpenAI call rejected with. */
async function refusal(call: Promise<unknown>): Promise<APIError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof APIError) return error;
    throw error;
  }
  throw new Error('the call succeeded');
}

/** session.history over /rpc, as the owner. */
async function history(gateway: TestGateway, token: string, sessionKey: string): Promise<any[]> {
  const reply = await postRpc(
    gateway.baseUrl,
    { jsonrpc: '2.0', id: 1, method: 'session.history', params: { sessionKey, limit: 1000 } },
    { headers: { authorization: `Bearer ${token}` } },
  );
  if (reply.body.error) throw new Error(JSON.stringify(reply.body.error));
  return reply.body.result as any[];
}

/** Polls until `check` passes or the deadline expires (what the server does is not an event here). */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the OpenAI-compatible front', () => {
  let provider: FakeOpenAiServer;
  let gateway: TestGateway;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    provider = await FakeOpenAiServer.start();
    gateway = await startGateway({
      gateway: { bodyLimit: 64 * 1024 },
      agents: [provider.agent({ name: 'Test LLM', system: 'You are a test.' })],
    });
    alice = await signToken({ sub: 'alice', scope: USER_SCOPES });
    bob = await signToken({ sub: 'bob', scope: USER_SCOPES });
  });

  afterAll(async () => {
    await gateway?.close();
    await provider?.close();
  });

  it('lists the agents as models, and finds one by id', async () => {
    const client = openai(gateway, alice);
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models.map((m) => m.id)).toEqual(expect.arrayContaining(['echo', 'llm']));
    expect(models.find((m) => m.id === 'llm')).toMatchObject({
      object: 'model',
      owned_by: 'openclaw-gateway',
      created: expect.any(Number),
    });
    expect(await client.models.retrieve('llm')).toMatchObject({ id: 'llm', object: 'model' });
    const unknown = await refusal(client.models.retrieve('nope'));
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(unknown).toMatchObject({ code: 'model_not_found', param: 'model' });
  });

  it('answers a chat.completion in a new session and records the call as a turn', async () => {
    const { data, response } = await openai(gateway, alice)
      .chat.completions.create({
        model: 'echo',
        messages: [
          { role: 'system', content: 'ignored: the agent has its own instructions' },
          { role: 'user', content: 'hello there' },
        ],
      })
      .withResponse();
    expect(data).toMatchObject({
      object: 'chat.completion',
      model: 'echo',
      created: expect.any(Number),
      choices: [
        { index: 0, message: { role: 'assistant', content: 'hello there' }, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
    expect(data.id).toMatch(/^chatcmpl-msg_/);
    const sessionKey = response.headers.get('x-openclaw-session')!;
    expect(sessionKey).toMatch(/^ses_/);
    expect(response.headers.get('x-openclaw-ignored-messages')).toBe('1');

    const events = await history(gateway, alice, sessionKey);
    expect(events.map((e) => e.type)).toEqual(['session.created', 'message.user', 'message.agent']);
    expect(events[0].data).toMatchObject({ agentId: 'echo' });
    expect(events[1].data).toMatchObject({ content: 'hello there' });
    expect(`chatcmpl-${events[2].data.messageId}`).toBe(data.id);
  });

  it("streams chat.completion.chunk events as the agent's deltas arrive, then usage and [DONE]", async () => {
    const chunks = textChunks('Hel', 'lo, ', 'wor', 'ld!');
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    // The provider holds the rest of its answer until the client has read the first token: a
    // gateway that buffered the answer would never let this test finish.
    provider.next(async (_request, res) => {
      startStream(res);
      sendChunk(res, chunks[0]);
      sendChunk(res, chunks[1]);
      await gate;
      for (const chunk of chunks.slice(2)) sendChunk(res, chunk);
      sendChunk(res, '[DONE]');
      res.end();
    });
    const { data: stream, response } = await openai(gateway, alice)
      .chat.completions.create({
        model: 'llm',
        messages: [{ role: 'user', content: 'Say hello' }],
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const sessionKey = response.headers.get('x-openclaw-session')!;

    const received: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      received.push(chunk);
      if (chunk.choices[0]?.delta.content === 'Hel') openGate();
    }
    expect(new Set(received.map((c) => c.id)).size).toBe(1);
    expect(received.every((c) => c.object === 'chat.completion.chunk' && c.model === 'llm')).toBe(
      true,
    );
    expect(received[0].choices[0].delta).toMatchObject({ role: 'assistant' });
    const contents = received
      .filter((c) => c.choices[0]?.delta.content)
      .map((c) => c.choices[0].delta.content);
    expect(contents).toEqual(['Hel', 'lo, ', 'wor', 'ld!']);
    const last = received.at(-2)!;
    expect(last.choices[0].finish_reason).toBe('stop');
    expect(received.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 },
    });

    const events = await history(gateway, alice, sessionKey);
    expect(events.at(-1)).toMatchObject({
      type: 'message.agent',
      data: { content: 'Hello, world!', finishReason: 'stop' },
    });
  });

  it('ends the event stream with data: [DONE]', async () => {
    const raw = await openai(gateway, alice)
      .chat.completions.create({
        model: 'echo',
        messages: [{ role: 'user', content: 'one two three' }],
        stream: true,
      })
      .asResponse();
    const text = await raw.text();
    const events = text.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const pieces = events
      .slice(0, -1)
      .map((e) => JSON.parse(e.slice('data: '.length)))
      .map((c) => c.choices[0]?.delta.content ?? '');
    expect(pieces.join('')).toBe('one two three');
  });

  it('continues a session named by X-OpenClaw-Session; earlier messages are ignored', async () => {
    const first = await openai(gateway, alice)
      .chat.completions.create({ model: 'llm', messages: [{ role: 'user', content: 'first' }] })
      .withResponse();
    const sessionKey = first.response.headers.get('x-openclaw-session')!;

    const second = await openai(gateway, alice, { 'X-OpenClaw-Session': sessionKey })
      .chat.completions.create({
        model: 'llm',
        messages: [
          { role: 'user', content: 'a rewritten past' },
          { role: 'assistant', content: 'that the log never saw' },
          { role: 'user', content: 'second' },
        ],
      })
      .withResponse();
    expect(second.response.headers.get('x-openclaw-session')).toBe(sessionKey);
    expect(second.response.headers.get('x-openclaw-ignored-messages')).toBe('2');
    // The model saw the conversation from the event log, not the request's.
    expect(provider.requests.at(-1)!.messages).toEqual([
      { role: 'system', content: 'You are a test.' },
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'fallback answer' },
      { role: 'user', content: 'second' },
    ]);
    const events = await history(gateway, alice, sessionKey);
    expect(events.filter((e) => e.type === 'message.user').map((e) => e.data.content)).toEqual([
      'first',
      'second',
    ]);
    expect(events.filter((e) => e.type === 'message.agent')).toHaveLength(2);
  });

  it("answers another tenant's session key exactly like an unknown one (404), storing nothing", async () => {
    const mine = await openai(gateway, alice)
      .chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'mine' }] })
      .withResponse();
    const sessionKey = mine.response.headers.get('x-openclaw-session')!;
    const before = await history(gateway, alice, sessionKey);

    const ask = (key: string) =>
      refusal(
        openai(gateway, bob, { 'X-OpenClaw-Session': key }).chat.completions.create({
          model: 'echo',
          messages: [{ role: 'user', content: 'let me in' }],
        }),
      );
    const theirs = await ask(sessionKey);
    const unknown = await ask('ses_doesnotexist0000000000000');
    for (const error of [theirs, unknown]) {
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ type: 'invalid_request_error', code: 'session_not_found' });
      expect(error.headers?.get('x-openclaw-session')).toBeNull();
    }
    expect(theirs.message.replace(sessionKey, 'KEY')).toBe(
      unknown.message.replace('ses_doesnotexist0000000000000', 'KEY'),
    );
    expect(await history(gateway, alice, sessionKey)).toEqual(before);
  });

  it('refuses, with a 400 naming the param, what it cannot honour', async () => {
    const client = openai(gateway, alice);
    const cases: Array<[OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming, string]> = [
      [
        {
          model: 'echo',
          messages: [
            { role: 'user', content: 'earlier' },
            { role: 'assistant', content: 'answer' },
            { role: 'user', content: 'now' },
          ],
        },
        'messages[0]',
      ],
      [
        {
          model: 'echo',
          messages: [{ role: 'user', content: 'hi' }],
          tools: [{ type: 'function', function: { name: 'mine', parameters: {} } }],
        },
        'tools',
      ],
      [{ model: 'echo', messages: [{ role: 'assistant', content: 'hi' }] }, 'messages[0].role'],
      [{ model: 'echo', messages: [{ role: 'user', content: 'hi' }], n: 2 }, 'n'],
      [{ model: 'echo', messages: [] }, 'messages'],
      [{ model: 7 as unknown as string, messages: [{ role: 'user', content: 'hi' }] }, 'model'],
    ];
    for (const [body, param] of cases) {
      const error = await refusal(client.chat.completions.create(body));
      expect(error, param).toBeInstanceOf(BadRequestError);
      expect(error, param).toMatchObject({ type: 'invalid_request_error', param });
      expect(error.headers?.get('x-should-retry')).toBe('false');
    }
    const badHeader = await refusal(
      openai(gateway, alice, { 'X-OpenClaw-Session': 's'.repeat(4000) }).chat.completions.create({
        model: 'echo',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(badHeader).toBeInstanceOf(BadRequestError);
    expect(badHeader).toMatchObject({ code: 'invalid_session_header' });
  });

  it('answers an expired token 401 with WWW-Authenticate', async () => {
    const expired = await signToken({ sub: 'alice', scope: USER_SCOPES }, { exp: now() - 60 });
    const error = await refusal(
      openai(gateway, expired).chat.completions.create({
        model: 'echo',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, type: 'authentication_error' });
    expect(error.headers?.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('answers a token without the scope 403', async () => {
    const reader = await signToken({ sub: 'carol', scope: 'agents:read' });
    const error = await refusal(
      openai(gateway, reader).chat.completions.create({
        model: 'echo',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error).toMatchObject({ type: 'permission_error', code: 'insufficient_scope' });
    expect(error.message).toContain('sessions:write');

    const writer = await signToken({ sub: 'carol', scope: 'sessions:write' });
    const models = await refusal(openai(gateway, writer).models.list());
    expect(models).toBeInstanceOf(PermissionDeniedError);
  });

  it('answers an unknown model 404 model_not_found, creating no session', async () => {
    const error = await refusal(
      openai(gateway, alice).chat.completions.create({
        model: 'gpt-nonexistent',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(error.headers?.get('x-openclaw-session')).toBeNull();

    // A path the front does not serve is refused in the same shape.
    const path = await refusal(openai(gateway, alice).get('/embeddings'));
    expect(path).toBeInstanceOf(NotFoundError);
    expect(path).toMatchObject({ type: 'invalid_request_error', code: 'not_found' });
  });

  it('answers 413 for a message over sessions.maxContentLength and a body over gateway.bodyLimit', async () => {
    const client = openai(gateway, alice);
    const long = await refusal(
      client.chat.completions.create({
        model: 'echo',
        messages: [{ role: 'user', content: 'x'.repeat(40_000) }],
      }),
    );
    expect(long.status).toBe(413);
    expect(long).toMatchObject({ type: 'invalid_request_error', code: 'request_too_large' });
    expect(long.headers?.get('x-openclaw-session')).toBeNull();

    const huge = await refusal(
      client.chat.completions.create({
        model: 'echo',
        messages: [{ role: 'user', content: 'x'.repeat(200_000) }],
      }),
    );
    expect(huge.status).toBe(413);
    expect(huge).toMatchObject({ type: 'invalid_request_error', code: 'request_too_large' });
  });

  it("answers a provider failure 502 with a retryable type, recorded in the turn's session", async () => {
    provider.next((_request, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'upstream exploded', type: 'server_error' } }));
    });
    const error = await refusal(
      openai(gateway, alice).chat.completions.create({
        model: 'llm',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 502, type: 'server_error', code: 'agent_unavailable' });
    expect(error.message).not.toContain('upstream exploded');
    expect(error.headers?.get('x-should-retry')).toBe('true');
    const sessionKey = error.headers?.get('x-openclaw-session');
    expect(sessionKey).toMatch(/^ses_/);
    expect((await history(gateway, alice, sessionKey!)).at(-1)).toMatchObject({
      type: 'agent.error',
      data: { retryable: true },
    });
  });

  it('answers a stream whose turn fails before its first token with a plain 502, and one that fails later with an error event', async () => {
    const stream = () =>
      openai(gateway, alice).chat.completions.create({
        model: 'llm',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
    provider.next((_request, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'upstream exploded', type: 'server_error' } }));
    });
    const early = await refusal(stream());
    expect(early).toBeInstanceOf(InternalServerError);
    expect(early).toMatchObject({ status: 502, code: 'agent_unavailable' });

    provider.next((_request, res) => {
      startStream(res);
      const chunks = textChunks('one ', 'two ');
      sendChunk(res, chunks[0]);
      sendChunk(res, chunks[1]);
      res.write('data: {"choices": [{"delta": garbage\n\n');
      res.end();
    });
    const contents: string[] = [];
    const late = await refusal(
      (async () => {
        for await (const chunk of await stream()) {
          const content = chunk.choices[0]?.delta.content;
          if (content) contents.push(content);
        }
      })(),
    );
    expect(contents).toEqual(['one ']);
    expect(late).toMatchObject({ type: 'server_error', code: 'agent_failed' });
    expect(late.message).toBe('The provider sent a malformed response');
  });

  it('cancels the turn when a streaming client goes away', async () => {
    const pieces = Array.from({ length: 200 }, (_, i) => `w${i} `);
    provider.next((_request, res) => streamChunks(res, textChunks(...pieces), 20));
    const { data: stream, response } = await openai(gateway, alice)
      .chat.completions.create({
        model: 'llm',
        messages: [{ role: 'user', content: 'talk slowly' }],
        stream: true,
      })
      .withResponse();
    const sessionKey = response.headers.get('x-openclaw-session')!;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) break; // leaving the loop aborts the request
    }
    const events = await eventually(
      () => history(gateway, alice, sessionKey),
      (log) => log.at(-1)?.type === 'message.agent',
    );
    expect(events.at(-1)!.data.finishReason).toBe('cancelled');
    expect(events.at(-1)!.data.content.length).toBeLessThan(pieces.join('').length);
  });

  it('counts calls in the call metrics', async () => {
    const response = await fetch(`${gateway.baseUrl}/metrics`, { headers: gateway.auth });
    const text = await response.text();
    expect(text).toMatch(
      /openclaw_rpc_calls_total\{method="POST \/v1\/chat\/completions",outcome="ok"\} [1-9]/,
    );
    expect(text).toMatch(
      /openclaw_rpc_calls_total\{method="GET \/v1\/models",outcome="ok"\} [1-9]/,
    );
  });
});

describe('the OpenAI-compatible front under rate limits', () => {
  let gateway: TestGateway;
  let alice: string;

  beforeAll(async () => {
    gateway = await startGateway({
      rateLimit: { client: { limit: 5, ttl: 60_000 }, session: { limit: 1, ttl: 60_000 } },
    });
    alice = await signToken({ sub: 'alice', scope: USER_SCOPES });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it('spends the same budgets as JSON-RPC calls and answers 429 with Retry-After', async () => {
    const ask = (headers: Record<string, string> = {}) =>
      openai(gateway, alice, headers)
        .chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
    // 1: a new session (client 1/5).
    const first = await ask();
    expect(first.response.headers.get('x-ratelimit-remaining')).toBe('4');
    const sessionKey = first.response.headers.get('x-openclaw-session')!;
    const inSession = { 'X-OpenClaw-Session': sessionKey };
    // 2: a turn in that session (client 2/5, session 1/1).
    await ask(inSession);
    // 3: the session's budget is spent (client 3/5).
    const sessionLimited = await refusal(ask(inSession));
    expect(sessionLimited).toBeInstanceOf(RateLimitError);
    expect(sessionLimited).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(sessionLimited.message).toContain('"session"');
    expect(Number(sessionLimited.headers?.get('retry-after'))).toBeGreaterThan(0);

    // 4: a JSON-RPC call spends the same client budget (client 4/5); the refused turn stored
    // nothing: the session holds its two turns.
    const events = await history(gateway, alice, sessionKey);
    expect(events.map((e) => e.type)).toEqual([
      'session.created',
      'message.user',
      'message.agent',
      'message.user',
      'message.agent',
    ]);
    // 5: client 5/5; 6: over.
    await openai(gateway, alice).models.list();
    const limited = await refusal(openai(gateway, alice).models.list());
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited.message).toContain('"client"');
    const retryAfter = Number(limited.headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });
});

describe('the OpenAI-compatible front on a draining instance', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startGateway({});
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it("answers 503 in OpenAI's shape, retryable, while /rpc keeps the gateway's", async () => {
    gateway.app.get(LifecycleService).startDraining();
    const alice = await signToken({ sub: 'alice', scope: USER_SCOPES });
    const error = await refusal(openai(gateway, alice).models.list());
    expect(error.status).toBe(503);
    expect(error).toMatchObject({ type: expect.any(String) as unknown });
    expect(error.headers?.get('retry-after')).toBe('1');
    expect(error.headers?.get('x-should-retry')).toBe('true');
    const rpc = await fetch(`${gateway.baseUrl}/rpc`, { method: 'POST' });
    expect(rpc.status).toBe(503);
    expect(await rpc.json()).toEqual({
      statusCode: 503,
      message: 'Draining: retry on another instance',
    });
  });
});
