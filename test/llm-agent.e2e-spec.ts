import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FakeOpenAiServer,
  sendChunk,
  startStream,
  streamChunks,
  textChunks,
  toolCallChunks,
} from './support/openai-compatible-server.js';
import { startGateway, WsTestClient, type TestGateway, rpcOver } from './support/gateway.js';

describe('an LLM agent against an OpenAI-compatible provider', () => {
  let provider: FakeOpenAiServer;
  let gateway: TestGateway;

  const { rpc, ok } = rpcOver(() => gateway);
  const newSession = async (agentId = 'llm') =>
    (await ok('session.create', { agentId })).sessionKey as string;
  const history = async (sessionKey: string) =>
    (await ok('session.history', { sessionKey, limit: 1000 })) as any[];

  beforeAll(async () => {
    provider = await FakeOpenAiServer.start();
    gateway = await startGateway({
      agents: [
        provider.agent({
          name: 'Test LLM',
          system: 'You are a test.',
          tools: ['echo'],
          timeout: '500ms',
        }),
        provider.agent({ id: 'llm-one-step', maxSteps: 1 }),
      ],
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await provider?.close();
  });

  it('lists the configured agent', async () => {
    expect(await ok('agent.list', {})).toContainEqual({
      id: 'llm',
      name: 'Test LLM',
      description: expect.any(String),
      provider: 'openai-compatible',
      model: 'test-model',
    });
  });

  it('streams the answer over WebSocket in order and stores it with usage', async () => {
    provider.next((_request, res) => streamChunks(res, textChunks('Hel', 'lo, ', 'wor', 'ld!')));
    const client = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    try {
      const created = await client.call('session.create', { agentId: 'llm' });
      const sessionKey = created.result.sessionKey as string;
      const reply = await client.call('session.message', { sessionKey, content: 'Say hello' });
      expect(reply.result).toMatchObject({
        content: 'Hello, world!',
        finishReason: 'stop',
        usage: { inputTokens: 11, outputTokens: 4 },
      });

      const notes = client.frames.filter((f) => f.method);
      const deltas = notes.filter((f) => f.method === 'session.delta');
      expect(deltas.map((d) => d.params.delta)).toEqual(['Hel', 'lo, ', 'wor', 'ld!']);
      expect(deltas.map((d) => d.params.index)).toEqual([0, 1, 2, 3]);
      const order = notes.map((f) => (f.method === 'session.delta' ? 'delta' : f.params.type));
      expect(order.lastIndexOf('delta')).toBeLessThan(order.indexOf('message.agent'));

      const request = provider.requests.at(-1)!;
      expect(request.stream).toBe(true);
      expect(request.messages).toEqual([
        { role: 'system', content: 'You are a test.' },
        { role: 'user', content: 'Say hello' },
      ]);
      expect(request.tools?.map((t) => t.function.name)).toEqual(['echo']);

      const events = await history(sessionKey);
      expect(events.at(-1)).toMatchObject({
        type: 'message.agent',
        data: { content: 'Hello, world!', usage: { inputTokens: 11, outputTokens: 4 } },
      });
    } finally {
      client.close();
    }
  });

  it('runs a two-step tool loop and persists every step', async () => {
    provider.next(
      (_request, res) => streamChunks(res, toolCallChunks('call_1', 'echo', { text: 'ping' })),
      (_request, res) => streamChunks(res, textChunks('The tool said ', 'ping.')),
    );
    const sessionKey = await newSession();
    const reply = await ok('session.message', { sessionKey, content: 'Use the echo tool' });
    expect(reply).toMatchObject({
      content: 'The tool said ping.',
      finishReason: 'stop',
      toolCalls: [{ toolCallId: 'call_1', name: 'echo', arguments: { text: 'ping' } }],
    });

    const events = await history(sessionKey);
    expect(events.map((e) => e.type)).toEqual([
      'session.created',
      'message.user',
      'tool.call',
      'tool.result',
      'message.agent',
    ]);
    expect(events[2].data).toMatchObject({
      toolCallId: 'call_1',
      name: 'echo',
      arguments: { text: 'ping' },
    });
    expect(events[3].data).toMatchObject({
      toolCallId: 'call_1',
      result: { content: [{ type: 'text', text: 'ping' }], isError: false },
    });

    // The second request carried the call and its result back to the model.
    const second = provider.requests.at(-1)!;
    expect(second.messages.slice(-2)).toMatchObject([
      {
        role: 'assistant',
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'echo', arguments: '{"text":"ping"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'ping' },
    ]);
  });

  it('finishes with tool_calls when maxSteps is reached while the model still calls tools', async () => {
    provider.next((_request, res) =>
      streamChunks(res, toolCallChunks('call_9', 'echo', { text: 'again' })),
    );
    const sessionKey = await newSession('llm-one-step');
    const reply = await ok('session.message', { sessionKey, content: 'loop' });
    expect(reply).toMatchObject({ finishReason: 'tool_calls', content: '' });
    expect((await history(sessionKey)).map((e) => e.type).slice(-3)).toEqual([
      'tool.call',
      'tool.result',
      'message.agent',
    ]);
  });

  it('reports a provider error as retryable -32010, marks the agent unavailable, and recovers', async () => {
    provider.next((_request, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'upstream exploded', type: 'server_error' } }));
    });
    const sessionKey = await newSession();
    const failed = await rpc('session.message', { sessionKey, content: 'hi' });
    expect(failed.error).toMatchObject({ code: -32010, data: { agentId: 'llm', retryable: true } });
    expect(failed.error?.message).not.toContain('upstream exploded');

    const status = await ok('agent.status', { agentId: 'llm' });
    expect(status).toMatchObject({ state: 'unavailable', lastError: failed.error?.message });
    expect((await history(sessionKey)).at(-1)).toMatchObject({
      type: 'agent.error',
      data: { retryable: true },
    });

    provider.next((_request, res) => streamChunks(res, textChunks('back')));
    const again = await ok('session.message', { sessionKey, content: 'hi again' });
    expect(again.content).toBe('back');
    expect((await ok('agent.status', { agentId: 'llm' })).state).toBe('idle');
    // The failed turn is not replayed to the model: two user messages and nothing else.
    expect(provider.requests.at(-1)!.messages.map((m) => m.role)).toEqual([
      'system',
      'user',
      'user',
    ]);
  });

  it('fails a turn whose provider stalls past the timeout', async () => {
    provider.next((_request, res) => {
      startStream(res);
      sendChunk(res, textChunks('partial')[1]);
      // …and nothing more.
    });
    const sessionKey = await newSession();
    const failed = await rpc('session.message', { sessionKey, content: 'hi' });
    expect(failed.error).toMatchObject({ code: -32010, data: { retryable: true } });
    expect(failed.error?.message).toMatch(/500 ms/);
    expect((await history(sessionKey)).at(-1)?.type).toBe('agent.error');
  });

  it('fails a turn whose stream breaks', async () => {
    provider.next((_request, res) => {
      startStream(res);
      const chunks = textChunks('one ', 'two ');
      sendChunk(res, chunks[0]);
      sendChunk(res, chunks[1]);
      res.write('data: {"choices": [{"delta": garbage\n\n');
      res.end();
    });
    const sessionKey = await newSession();
    const failed = await rpc('session.message', { sessionKey, content: 'hi' });
    expect(failed.error).toMatchObject({ code: -32010, data: { retryable: false } });
    expect(failed.error?.message).toBe('The provider sent a malformed response');
    expect((await history(sessionKey)).at(-1)?.type).toBe('agent.error');
  });

  it('cancels a slow turn when the session ends', async () => {
    const pieces = Array.from({ length: 50 }, (_, i) => `w${i} `);
    provider.next((_request, res) => streamChunks(res, textChunks(...pieces), 100));
    const client = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    try {
      const created = await client.call('session.create', { agentId: 'llm' });
      const sessionKey = created.result.sessionKey as string;
      client.send({
        jsonrpc: '2.0',
        id: 'turn',
        method: 'session.message',
        params: { sessionKey, content: 'talk slowly' },
      });
      await client.next((f) => f.method === 'session.delta');
      await ok('session.end', { sessionKey });
      const reply = await client.next((f) => f.id === 'turn');
      expect(reply.result.finishReason).toBe('cancelled');
      expect(reply.result.content.length).toBeLessThan(pieces.join('').length);
    } finally {
      client.close();
    }
  });
});

describe('agent configuration', () => {
  it('refuses to boot with an invalid agent, naming the key', async () => {
    await expect(
      startGateway({ agents: [{ id: 'bad', provider: 'openia', model: 'x' }] }),
    ).rejects.toThrow(/agents\[0\]\.provider: must be one of openai-compatible, openai, anthropic/);
  });

  it('requires a baseUrl for an openai-compatible agent', async () => {
    await expect(
      startGateway({ agents: [{ id: 'local', provider: 'openai-compatible', model: 'llama3' }] }),
    ).rejects.toThrow(/agents\[0\]\.baseUrl/);
  });
});
