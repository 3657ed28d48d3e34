import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  errorEvent,
  FakeAnthropicServer,
  sendError as sendAnthropicError,
  streamEvents as streamAnthropic,
  textEvents as anthropicText,
  toolUseEvents,
} from './support/anthropic-server.js';
import { startGateway, WsTestClient, type TestGateway, rpcOver } from './support/gateway.js';
import {
  failingEvents,
  FakeOpenAiResponsesServer,
  functionCallEvents,
  sendError as sendOpenAiError,
  streamEvents as streamOpenAi,
  textEvents as openAiText,
} from './support/openai-responses-server.js';

// Test-only variables: the agents name them, and nothing else may supply a key.
const ANTHROPIC_KEY_ENV = 'TEST_ANTHROPIC_KEY';
const OPENAI_KEY_ENV = 'TEST_OPENAI_KEY';
const ANTHROPIC_KEY = 'sk-ant-test-0123456789';
const OPENAI_KEY = 'sk-test-openai-9876543210';

describe('LLM agents against the Anthropic and OpenAI wire protocols', () => {
  let anthropic: FakeAnthropicServer;
  let openai: FakeOpenAiResponsesServer;
  let gateway: TestGateway;

  const { rpc, ok } = rpcOver(() => gateway);
  const newSession = async (agentId: string) =>
    (await ok('session.create', { agentId })).sessionKey as string;
  const history = async (sessionKey: string) =>
    (await ok('session.history', { sessionKey, limit: 1000 })) as any[];

  /** Sends one turn over WebSocket; returns the reply and the notifications seen meanwhile. */
  const turnOverWs = async (agentId: string, content: string) => {
    const client = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    try {
      const created = await client.call('session.create', { agentId });
      const sessionKey = created.result.sessionKey as string;
      const reply = await client.call('session.message', { sessionKey, content });
      return { sessionKey, reply, notes: client.frames.filter((f) => f.method) };
    } finally {
      client.close();
    }
  };

  beforeAll(async () => {
    // The keys must be in the environment before boot: agents read them when they are built.
    vi.stubEnv(ANTHROPIC_KEY_ENV, ANTHROPIC_KEY);
    vi.stubEnv(OPENAI_KEY_ENV, OPENAI_KEY);
    // Decoys in the SDKs' own variables, which must never be read.
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-decoy');
    vi.stubEnv('OPENAI_API_KEY', 'sk-decoy');
    anthropic = await FakeAnthropicServer.start();
    openai = await FakeOpenAiResponsesServer.start();
    gateway = await startGateway({
      agents: [
        {
          id: 'claude',
          provider: 'anthropic',
          model: 'claude-sonnet-4-5',
          baseUrl: anthropic.baseUrl,
          apiKeyEnv: ANTHROPIC_KEY_ENV,
          system: 'You are a test.',
          tools: ['echo'],
          maxRetries: 0,
        },
        {
          id: 'gpt',
          provider: 'openai',
          model: 'gpt-4.1-mini',
          baseUrl: openai.baseUrl,
          apiKeyEnv: OPENAI_KEY_ENV,
          system: 'You are a test.',
          tools: ['echo'],
          maxRetries: 0,
        },
      ],
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await anthropic?.close();
    await openai?.close();
    vi.unstubAllEnvs();
  });

  describe('anthropic (Messages API)', () => {
    it('streams the answer over WebSocket in order and stores it with usage', async () => {
      anthropic.next((request, res) =>
        streamAnthropic(res, anthropicText(request, 'Hel', 'lo, ', 'wor', 'ld!')),
      );
      const { sessionKey, reply, notes } = await turnOverWs('claude', 'Say hello');
      expect(reply.result).toMatchObject({
        content: 'Hello, world!',
        finishReason: 'stop',
        usage: { inputTokens: 25, outputTokens: 4 },
      });

      const deltas = notes.filter((f) => f.method === 'session.delta');
      expect(deltas.map((d) => d.params.delta)).toEqual(['Hel', 'lo, ', 'wor', 'ld!']);
      expect(deltas.map((d) => d.params.index)).toEqual([0, 1, 2, 3]);
      const order = notes.map((f) => (f.method === 'session.delta' ? 'delta' : f.params.type));
      expect(order.lastIndexOf('delta')).toBeLessThan(order.indexOf('message.agent'));

      expect((await history(sessionKey)).at(-1)).toMatchObject({
        type: 'message.agent',
        data: { content: 'Hello, world!', usage: { inputTokens: 25, outputTokens: 4 } },
      });
    });

    it('sends the key from the named variable as x-api-key, with the model and system prompt', async () => {
      anthropic.next((request, res) => streamAnthropic(res, anthropicText(request, 'ok')));
      const sessionKey = await newSession('claude');
      await ok('session.message', { sessionKey, content: 'Who are you?' });

      const { url, headers, body } = anthropic.requests.at(-1)!;
      expect(url).toBe('/v1/messages');
      expect(headers['x-api-key']).toBe(ANTHROPIC_KEY);
      expect(headers.authorization).toBeUndefined();
      expect(headers['anthropic-version']).toBe('2023-06-01');
      expect(body).toMatchObject({
        model: 'claude-sonnet-4-5',
        stream: true,
        max_tokens: expect.any(Number),
        system: [{ type: 'text', text: 'You are a test.' }],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Who are you?' }] }],
      });
      expect(body.tools?.map((t) => t.name)).toEqual(['echo']);
      expect(body.tools?.[0].input_schema).toMatchObject({ type: 'object' });
    });

    it('runs a two-step tool loop and sends the result back as a tool_result block', async () => {
      anthropic.next(
        (request, res) =>
          streamAnthropic(res, toolUseEvents(request, 'toolu_01A', 'echo', { text: 'ping' })),
        (request, res) => streamAnthropic(res, anthropicText(request, 'The tool said ', 'ping.')),
      );
      const sessionKey = await newSession('claude');
      const reply = await ok('session.message', { sessionKey, content: 'Use the echo tool' });
      expect(reply).toMatchObject({
        content: 'The tool said ping.',
        finishReason: 'stop',
        toolCalls: [{ toolCallId: 'toolu_01A', name: 'echo', arguments: { text: 'ping' } }],
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
        toolCallId: 'toolu_01A',
        name: 'echo',
        arguments: { text: 'ping' },
        // What Claude wrote before calling is kept with the call, not lost.
        text: 'Let me check.',
      });
      expect(events[3].data).toMatchObject({
        toolCallId: 'toolu_01A',
        result: { content: [{ type: 'text', text: 'ping' }], isError: false },
      });

      // Anthropic's format: the call as an assistant tool_use block, its result in a user turn.
      const second = anthropic.requests.at(-1)!.body;
      expect(second.messages.slice(-2)).toMatchObject([
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me check.' },
            { type: 'tool_use', id: 'toolu_01A', name: 'echo', input: { text: 'ping' } },
          ],
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_01A', content: 'ping' }],
        },
      ]);

      // The next turn's conversation is rebuilt from the log, the text before the call included.
      anthropic.next((request, res) => streamAnthropic(res, anthropicText(request, 'Sure.')));
      await ok('session.message', { sessionKey, content: 'Thanks' });
      const third = anthropic.requests.at(-1)!.body;
      expect(third.messages).toMatchObject([
        { role: 'user', content: [{ type: 'text', text: 'Use the echo tool' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me check.' },
            { type: 'tool_use', id: 'toolu_01A', name: 'echo' },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01A' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'The tool said ping.' }] },
        { role: 'user', content: [{ type: 'text', text: 'Thanks' }] },
      ]);
    });

    it('reports an HTTP 500 as retryable -32010 without leaking the provider message', async () => {
      anthropic.next((_request, res) =>
        sendAnthropicError(res, 500, 'api_error', 'secret upstream detail'),
      );
      const sessionKey = await newSession('claude');
      const failed = await rpc('session.message', { sessionKey, content: 'hi' });
      expect(failed.error).toMatchObject({
        code: -32010,
        data: { agentId: 'claude', retryable: true },
      });
      expect(JSON.stringify(failed.error)).not.toContain('secret upstream detail');
      expect((await history(sessionKey)).at(-1)).toMatchObject({
        type: 'agent.error',
        data: { retryable: true },
      });
    });

    it('reports an overloaded_error event that opens the stream as retryable', async () => {
      anthropic.next((_request, res) =>
        streamAnthropic(res, [errorEvent('overloaded_error', 'Overloaded (secret)')]),
      );
      const sessionKey = await newSession('claude');
      const failed = await rpc('session.message', { sessionKey, content: 'hi' });
      expect(failed.error).toMatchObject({ code: -32010, data: { retryable: true } });
      expect(JSON.stringify(failed.error)).not.toContain('secret');
      expect((await history(sessionKey)).at(-1)).toMatchObject({
        type: 'agent.error',
        data: { retryable: true },
      });
    });

    it('reports an overloaded_error event in the middle of an answer as retryable', async () => {
      anthropic.next((request, res) => {
        const answer = anthropicText(request, 'Partial ');
        // message_start, the text block and a delta arrive, then the error ends the stream.
        streamAnthropic(res, [
          ...answer.slice(0, 4),
          errorEvent('overloaded_error', 'Overloaded (secret)'),
        ]);
      });
      const sessionKey = await newSession('claude');
      const failed = await rpc('session.message', { sessionKey, content: 'hi' });
      expect(failed.error).toMatchObject({ code: -32010, data: { retryable: true } });
      expect(failed.error?.message).toBe('The provider failed while answering');
      expect(JSON.stringify(failed.error)).not.toContain('secret');
      expect((await history(sessionKey)).at(-1)).toMatchObject({
        type: 'agent.error',
        data: { retryable: true },
      });
    });
  });

  describe('openai (Responses API)', () => {
    it('streams the answer over WebSocket in order and stores it with usage', async () => {
      openai.next((request, res) =>
        streamOpenAi(res, openAiText(request, 'Hel', 'lo, ', 'wor', 'ld!')),
      );
      const { sessionKey, reply, notes } = await turnOverWs('gpt', 'Say hello');
      expect(reply.result).toMatchObject({
        content: 'Hello, world!',
        finishReason: 'stop',
        usage: { inputTokens: 19, outputTokens: 4 },
      });

      const deltas = notes.filter((f) => f.method === 'session.delta');
      expect(deltas.map((d) => d.params.delta)).toEqual(['Hel', 'lo, ', 'wor', 'ld!']);
      expect(deltas.map((d) => d.params.index)).toEqual([0, 1, 2, 3]);
      const order = notes.map((f) => (f.method === 'session.delta' ? 'delta' : f.params.type));
      expect(order.lastIndexOf('delta')).toBeLessThan(order.indexOf('message.agent'));

      expect((await history(sessionKey)).at(-1)).toMatchObject({
        type: 'message.agent',
        data: { content: 'Hello, world!', usage: { inputTokens: 19, outputTokens: 4 } },
      });
    });

    it('sends the key from the named variable as a Bearer token, with the model and system prompt', async () => {
      openai.next((request, res) => streamOpenAi(res, openAiText(request, 'ok')));
      const sessionKey = await newSession('gpt');
      await ok('session.message', { sessionKey, content: 'Who are you?' });

      const { url, headers, body } = openai.requests.at(-1)!;
      expect(url).toBe('/v1/responses');
      expect(headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
      expect(headers['x-api-key']).toBeUndefined();
      expect(body).toMatchObject({
        model: 'gpt-4.1-mini',
        stream: true,
        input: [
          { role: 'system', content: 'You are a test.' },
          { role: 'user', content: [{ type: 'input_text', text: 'Who are you?' }] },
        ],
      });
      expect(body.tools?.map((t) => [t.type, t.name])).toEqual([['function', 'echo']]);
      // Not left to the Responses API's strict default, which rewrites optional parameters.
      expect(body.tools?.[0]).toMatchObject({ strict: false });
      // Nothing of the conversation is left stored at OpenAI.
      expect(body.store).toBe(false);
    });

    it('runs a two-step tool loop and sends the result back as a function_call_output', async () => {
      openai.next(
        (request, res) =>
          streamOpenAi(res, functionCallEvents(request, 'call_7', 'echo', { text: 'ping' })),
        (request, res) => streamOpenAi(res, openAiText(request, 'The tool said ', 'ping.')),
      );
      const sessionKey = await newSession('gpt');
      const reply = await ok('session.message', { sessionKey, content: 'Use the echo tool' });
      expect(reply).toMatchObject({
        content: 'The tool said ping.',
        finishReason: 'stop',
        toolCalls: [{ toolCallId: 'call_7', name: 'echo', arguments: { text: 'ping' } }],
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
        toolCallId: 'call_7',
        name: 'echo',
        arguments: { text: 'ping' },
      });
      expect(events[3].data).toMatchObject({
        toolCallId: 'call_7',
        result: { content: [{ type: 'text', text: 'ping' }], isError: false },
      });

      // The Responses format: the call and its output as input items, joined by call_id.
      const second = openai.requests.at(-1)!.body;
      expect(second.input.slice(-2)).toMatchObject([
        { type: 'function_call', call_id: 'call_7', name: 'echo', arguments: '{"text":"ping"}' },
        { type: 'function_call_output', call_id: 'call_7', output: 'ping' },
      ]);
    });

    it('reports an HTTP 500 as retryable -32010 without leaking the provider message', async () => {
      openai.next((_request, res) =>
        sendOpenAiError(res, 500, 'server_error', 'secret upstream detail'),
      );
      const sessionKey = await newSession('gpt');
      const failed = await rpc('session.message', { sessionKey, content: 'hi' });
      expect(failed.error).toMatchObject({
        code: -32010,
        data: { agentId: 'gpt', retryable: true },
      });
      expect(JSON.stringify(failed.error)).not.toContain('secret upstream detail');
      expect((await history(sessionKey)).at(-1)).toMatchObject({
        type: 'agent.error',
        data: { retryable: true },
      });
    });

    it.each(['error', 'response.failed'] as const)(
      'reports a %s event in the middle of an answer as retryable',
      async (ending) => {
        openai.next((request, res) =>
          streamOpenAi(res, failingEvents(request, ending, 'server_error', 'secret detail')),
        );
        const sessionKey = await newSession('gpt');
        const failed = await rpc('session.message', { sessionKey, content: 'hi' });
        expect(failed.error).toMatchObject({ code: -32010, data: { retryable: true } });
        expect(failed.error?.message).toBe('The provider failed while answering');
        expect(JSON.stringify(failed.error)).not.toContain('secret');
        expect((await history(sessionKey)).at(-1)).toMatchObject({
          type: 'agent.error',
          data: { retryable: true },
        });
      },
    );
  });
});
