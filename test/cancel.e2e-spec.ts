import { request as httpRequest, type ClientRequest, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from './support/auth-tokens.js';
import { storageEngines } from './support/databases.js';
import {
  ALL_SCOPES,
  postRpc,
  rpcOver,
  startGateway,
  WsTestClient,
  type TestGateway,
} from './support/gateway.js';
import {
  FakeOpenAiServer,
  sendChunk,
  startStream,
  streamChunks,
  textChunks,
  toolCallChunks,
} from './support/openai-compatible-server.js';
import { WaitingModule, WaitingTool } from './support/waiting.module.js';

const engines = await storageEngines('cancel e2e');

/**
 * A provider answer that streams `pieces` and then hangs until the gateway closes the request;
 * `closed` settles when it has (the model stream was stopped).
 */
function hangingAnswer(...pieces: string[]): {
  handler: (request: unknown, res: ServerResponse) => Promise<void>;
  closed: Promise<void>;
} {
  let closed!: () => void;
  const done = new Promise<void>((resolve) => (closed = resolve));
  return {
    closed: done,
    handler: async (_request, res) => {
      res.on('close', closed);
      startStream(res);
      for (const data of textChunks(...pieces).slice(0, 1 + pieces.length)) sendChunk(res, data);
      await done;
    },
  };
}

describe.each(engines)('cancelling calls and turns on $name', ({ url, skip }) => {
  describe.skipIf(skip)('', () => {
    let provider: FakeOpenAiServer;
    let gateway: TestGateway;
    const { rpc, ok } = rpcOver(() => gateway);
    const history = async (sessionKey: string) =>
      (await ok('session.history', { sessionKey, limit: 1000 })) as any[];
    const connect = () => WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    const cancelRequest = (client: WsTestClient, id: unknown) =>
      client.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id } });
    /** A new session over `client`: the LLM agent's unless another is named. */
    const newSession = async (client: WsTestClient, agentId?: string): Promise<string> =>
      (await client.call('session.create', agentId === undefined ? {} : { agentId })).result
        .sessionKey as string;
    /** Sends a message as call `id` without waiting for its answer. */
    const sendMessage = (
      client: WsTestClient,
      id: string | number,
      sessionKey: string,
      content: string,
    ) =>
      client.send({
        jsonrpc: '2.0',
        id,
        method: 'session.message',
        params: { sessionKey, content },
      });

    beforeAll(async () => {
      provider = await FakeOpenAiServer.start();
      gateway = await startGateway(
        {
          database: { url: await url() },
          agents: [provider.agent({ tools: ['wait.slow'], timeout: '30s' })],
        },
        { imports: [WaitingModule] },
      );
    });

    afterAll(async () => {
      // The provider first: a turn a failed test left hanging then ends instead of holding close.

      await provider?.close();
      await gateway?.close();
    });

    it('$/cancelRequest stops a streaming LLM turn: -32800, the partial answer stored as cancelled, the next message runs at once', async () => {
      const slow = hangingAnswer('Hel', 'lo ');
      provider.next(slow.handler);
      const client = await connect();
      try {
        const sessionKey = await newSession(client, 'llm');
        sendMessage(client, 'turn-1', sessionKey, 'Say hello slowly');
        await client.next((f) => f.method === 'session.delta' && f.params.delta === 'lo ');
        cancelRequest(client, 'turn-1');
        const reply = await client.next((f) => f.id === 'turn-1');
        expect(reply.error).toEqual({ code: -32800, message: 'Request cancelled' });
        await slow.closed;

        const events = await history(sessionKey);
        expect(events.at(-1)).toMatchObject({
          type: 'message.agent',
          data: { content: 'Hello ', finishReason: 'cancelled' },
        });

        provider.next((_request, res) => streamChunks(res, textChunks('Again')));
        const next = await client.call('session.message', { sessionKey, content: 'Again' });
        expect(next.result).toMatchObject({ content: 'Again', finishReason: 'stop' });
      } finally {
        client.close();
      }
    });

    it('$/cancelRequest stops the echo agent mid-stream: its partial answer is stored as cancelled', async () => {
      const client = await connect();
      try {
        const sessionKey = await newSession(client);
        const content = 'word '.repeat(6000);
        sendMessage(client, 'echo', sessionKey, content);
        await client.next((f) => f.method === 'session.delta');
        cancelRequest(client, 'echo');
        expect((await client.next((f) => f.id === 'echo', 15_000)).error.code).toBe(-32800);
        const answer = (await history(sessionKey)).at(-1);
        expect(answer).toMatchObject({
          type: 'message.agent',
          data: { finishReason: 'cancelled' },
        });
        expect(answer.data.content.length).toBeGreaterThan(0);
        expect(answer.data.content.length).toBeLessThan(content.length);
        expect(content.startsWith(answer.data.content)).toBe(true);
      } finally {
        client.close();
      }
    });

    it('cancelling a turn while its tool runs aborts the tool and still ends with message.agent cancelled', async () => {
      const tool = gateway.app.get(WaitingTool);
      tool.started.reset();
      tool.aborted.reset();
      provider.next((_request, res) =>
        streamChunks(res, toolCallChunks('call_wait', 'wait_slow', {})),
      );
      const client = await connect();
      try {
        const sessionKey = await newSession(client, 'llm');
        sendMessage(client, 7, sessionKey, 'Wait for me');
        await tool.started.promise;
        cancelRequest(client, 7);
        const reply = await client.next((f) => f.id === 7);
        expect(reply.error?.code).toBe(-32800);
        await tool.aborted.promise;

        const events = await history(sessionKey);
        const types = events.map((e) => e.type);
        expect(types.slice(-3)).toEqual(['tool.call', 'tool.result', 'message.agent']);
        expect(events.at(-2).data).toMatchObject({
          toolCallId: 'call_wait',
          result: { isError: true },
        });
        expect(events.at(-1).data.finishReason).toBe('cancelled');

        provider.next((_request, res) => streamChunks(res, textChunks('Next')));
        const next = await client.call('session.message', { sessionKey, content: 'Next' });
        expect(next.result).toMatchObject({ content: 'Next', finishReason: 'stop' });
      } finally {
        client.close();
      }
    });

    it('a retry that joined the running turn (same idempotency key) cancels it with $/cancelRequest', async () => {
      const slow = hangingAnswer('Joined ');
      provider.next(slow.handler);
      const [first, retry] = [await connect(), await connect()];
      try {
        const sessionKey = await newSession(first, 'llm');
        const params = { sessionKey, content: 'Once', idempotencyKey: 'key-1' };
        first.send({ jsonrpc: '2.0', id: 'first', method: 'session.message', params });
        await first.next((f) => f.method === 'session.delta');
        // As a client does after a reconnect: the same message again, on another socket.
        retry.send({ jsonrpc: '2.0', id: 'retry', method: 'session.message', params });
        await waitUntil(async () => (await history(sessionKey)).length >= 2);
        cancelRequest(retry, 'retry');
        expect((await retry.next((f) => f.id === 'retry')).error.code).toBe(-32800);
        const original = await first.next((f) => f.id === 'first');
        expect(original.result).toMatchObject({ content: 'Joined ', finishReason: 'cancelled' });
        await slow.closed;
      } finally {
        first.close();
        retry.close();
      }
    });

    it('session.cancel over HTTP stops a turn running for a WebSocket call', async () => {
      const slow = hangingAnswer('Partial ');
      provider.next(slow.handler);
      const client = await connect();
      try {
        const sessionKey = await newSession(client, 'llm');
        sendMessage(client, 'turn', sessionKey, 'Go');
        await client.next((f) => f.method === 'session.delta');
        expect(await ok('session.cancel', { sessionKey })).toEqual({ cancelled: true });
        // Answered once the cancelled answer is stored: the log already ends with it.
        expect((await history(sessionKey)).at(-1)).toMatchObject({
          type: 'message.agent',
          data: { content: 'Partial ', finishReason: 'cancelled' },
        });
        const reply = await client.next((f) => f.id === 'turn');
        expect(reply.result).toMatchObject({ content: 'Partial ', finishReason: 'cancelled' });
        await slow.closed;
      } finally {
        client.close();
      }
    });

    it('session.cancel with nothing running answers cancelled: false and stores nothing', async () => {
      const { sessionKey } = await ok('session.create', {});
      const before = await history(sessionKey);
      expect(await ok('session.cancel', { sessionKey })).toEqual({ cancelled: false });
      expect(await history(sessionKey)).toEqual(before);
    });

    it("session.cancel of another subject's session is -32004, and its turn runs on", async () => {
      const slow = hangingAnswer('Mine ');
      provider.next(slow.handler);
      const client = await connect();
      try {
        const sessionKey = await newSession(client, 'llm');
        sendMessage(client, 'owned', sessionKey, 'Go');
        await client.next((f) => f.method === 'session.delta');
        const mallory = await signToken({
          sub: 'mallory',
          scope: ALL_SCOPES.replace(' admin', ''),
        });
        const refused = await postRpc(
          gateway.baseUrl,
          { jsonrpc: '2.0', id: 1, method: 'session.cancel', params: { sessionKey } },
          { headers: { authorization: `Bearer ${mallory}` } },
        );
        expect(refused.body.error).toMatchObject({ code: -32004 });
        const missing = await rpc('session.cancel', { sessionKey: 'no-such-session' });
        expect(missing.error?.code).toBe(-32004);
        const invalid = await rpc('session.cancel', { sessionKey: 'x'.repeat(10_000) });
        expect(invalid.error?.code).toBe(-32602);

        // The owner's turn was untouched: the owner's own cancel still finds it running.
        expect(await ok('session.cancel', { sessionKey })).toEqual({ cancelled: true });
        const reply = await client.next((f) => f.id === 'owned');
        expect(reply.result.finishReason).toBe('cancelled');
      } finally {
        client.close();
      }
    });

    it('an HTTP client that disconnects cancels its session.message turn', async () => {
      const slow = hangingAnswer('Gone ');
      provider.next(slow.handler);
      const { sessionKey } = await ok('session.create', { agentId: 'llm' });
      const asked = provider.received.length;
      const request = postThenLeave(gateway, 'session.message', {
        sessionKey,
        content: 'Leaving',
      });
      // The provider received the turn's request: the turn is running.
      await waitUntil(() => provider.received.length > asked);
      request.destroy();
      await slow.closed;
      await waitUntil(async () => (await history(sessionKey)).at(-1)?.type === 'message.agent');
      expect((await history(sessionKey)).at(-1).data.finishReason).toBe('cancelled');
    });

    it('an HTTP client that disconnects cancels its tools.execute: the tool is aborted', async () => {
      const tool = gateway.app.get(WaitingTool);
      tool.started.reset();
      tool.aborted.reset();
      const request = postThenLeave(gateway, 'tools.execute', { name: 'wait.slow', arguments: {} });
      await tool.started.promise;
      request.destroy();
      await tool.aborted.promise;
    });
  });
});

/** POSTs a call on a connection of its own, which the test then closes: a client that left. */
function postThenLeave(gateway: TestGateway, method: string, params: unknown): ClientRequest {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params });
  const request = httpRequest(`${gateway.baseUrl}/rpc`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', ...gateway.auth },
  });
  request.on('error', () => undefined);
  request.end(body);
  return request;
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
