import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { TracingService } from '../src/core/tracing/tracing.service.js';
import { signToken } from './support/auth-tokens.js';
import { MCP_SCOPES } from './support/mcp-client.js';
import { storageEngines } from './support/databases.js';
import {
  postRpc,
  rpcOver,
  startGateway,
  WsTestClient,
  type TestGateway,
} from './support/gateway.js';
import {
  FakeOpenAiServer,
  streamChunks,
  textChunks,
  toolCallChunks,
} from './support/openai-compatible-server.js';
import { OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';

const TRACE_SERVER = join(import.meta.dirname, 'fixtures/mcp-trace-server.mjs');
const SERVER_KIND = 2;
const CLIENT_KIND = 3;
const ERROR_STATUS = 2;

const engines = await storageEngines('tracing e2e');

/** A caller's trace: ids made here, so the spans that join it are found by its trace id. */
function incomingTrace(): { traceId: string; spanId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

function one(spans: ReceivedSpan[], name: string): ReceivedSpan {
  const found = spans.filter((span) => span.name === name);
  expect(found.map((span) => span.name)).toEqual([name]);
  return found[0];
}

describe.each(engines)('OpenTelemetry traces on $name', ({ url, skip }) => {
  describe.skipIf(skip)('', () => {
    let receiver: OtlpReceiver;
    let provider: FakeOpenAiServer;
    let gateway: TestGateway;
    const { ok } = rpcOver(() => gateway);
    /** Spans are batched: export what has ended, then read what the collector got. */
    const exported = async (traceId: string): Promise<ReceivedSpan[]> => {
      await gateway.app.get(TracingService).flush();
      return receiver.trace(traceId);
    };

    beforeAll(async () => {
      receiver = await OtlpReceiver.start();
      provider = await FakeOpenAiServer.start();
      gateway = await startGateway(
        {
          database: { url: await url() },
          agents: [provider.agent({ tools: ['echo'], temperature: 0.5 })],
          mcpServers: { tracer: { command: process.execPath, args: [TRACE_SERVER] } },
        },
        {
          env: {
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          },
        },
      );
    });

    afterAll(async () => {
      await gateway?.close();
      await provider?.close();
      await receiver?.close();
    });

    it('exports a turn with a tool call under the incoming traceparent: call > turn > model calls, tool call, commits', async () => {
      provider.next(
        (_request, res) => streamChunks(res, toolCallChunks('call_1', 'echo', { text: 'ping' })),
        (_request, res) => streamChunks(res, textChunks('The tool said ', 'ping.')),
      );
      const sessionKey = (await ok('session.create', { agentId: 'llm' })).sessionKey as string;
      const incoming = incomingTrace();
      const secret = 'Use the echo tool, secret-content-42';
      const reply = await postRpc(
        gateway.baseUrl,
        {
          jsonrpc: '2.0',
          id: 1,
          method: 'session.message',
          params: { sessionKey, content: secret },
        },
        { headers: { ...gateway.auth, traceparent: incoming.traceparent } },
      );
      expect(reply.body.result).toMatchObject({ content: 'The tool said ping.' });

      const spans = await exported(incoming.traceId);
      const call = one(spans, 'session.message');
      expect(call).toMatchObject({
        parentSpanId: incoming.spanId,
        kind: SERVER_KIND,
        service: 'openclaw-gateway',
        attributes: {
          'rpc.system': 'jsonrpc',
          'rpc.method': 'session.message',
          'openclaw.transport': 'http',
        },
      });
      const turn = one(spans, 'invoke_agent llm');
      expect(turn).toMatchObject({
        parentSpanId: call.spanId,
        attributes: {
          'gen_ai.operation.name': 'invoke_agent',
          'gen_ai.agent.id': 'llm',
          'gen_ai.conversation.id': sessionKey,
          'gen_ai.response.finish_reasons': ['stop'],
        },
      });

      const models = spans.filter((span) => span.name === 'chat test-model');
      expect(models).toHaveLength(2);
      for (const model of models) {
        expect(model).toMatchObject({
          parentSpanId: turn.spanId,
          kind: CLIENT_KIND,
          attributes: {
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': 'openai-compatible',
            'gen_ai.system': 'openai-compatible',
            'gen_ai.request.model': 'test-model',
            'gen_ai.request.temperature': 0.5,
            'gen_ai.usage.input_tokens': expect.any(Number),
            'gen_ai.usage.output_tokens': expect.any(Number),
          },
        });
      }
      expect(models.map((model) => model.attributes['gen_ai.response.finish_reasons'])).toEqual(
        expect.arrayContaining([['tool_calls'], ['stop']]),
      );
      // Each provider request carried the traceparent of its own model-call span.
      const sent = provider.received.slice(-2).map((request) => request.headers.traceparent);
      expect(sent.sort()).toEqual(
        models.map((model) => `00-${incoming.traceId}-${model.spanId}-01`).sort(),
      );

      expect(one(spans, 'execute_tool echo')).toMatchObject({
        parentSpanId: turn.spanId,
        attributes: {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': 'echo',
          'gen_ai.tool.type': 'function',
        },
      });
      // message.user, tool.call, tool.result, message.agent: each commit is the turn's child.
      const commits = spans.filter((span) => span.name === 'event_store.commit');
      expect(commits.length).toBeGreaterThanOrEqual(4);
      for (const commit of commits) {
        expect(commit.parentSpanId).toBe(turn.spanId);
        expect(commit.attributes).toMatchObject({
          'db.operation.name': 'append',
          'openclaw.commit.batch_size': expect.any(Number),
        });
      }

      // Nothing of the conversation or the credentials is in the export.
      const text = JSON.stringify(spans);
      for (const forbidden of [secret, 'ping', 'The tool said', gateway.token]) {
        expect(text).not.toContain(forbidden);
      }
    });

    it('marks a failed model call with the provider status, and the turn and the call failed', async () => {
      provider.next((_request, res) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'upstream broke', type: 'server_error' } }));
      });
      const sessionKey = (await ok('session.create', { agentId: 'llm' })).sessionKey as string;
      const incoming = incomingTrace();
      const reply = await postRpc(
        gateway.baseUrl,
        { jsonrpc: '2.0', id: 1, method: 'session.message', params: { sessionKey, content: 'x' } },
        { headers: { ...gateway.auth, traceparent: incoming.traceparent } },
      );
      expect(reply.body.error).toBeDefined();
      const spans = await exported(incoming.traceId);
      expect(one(spans, 'chat test-model')).toMatchObject({
        statusCode: ERROR_STATUS,
        attributes: { 'error.type': '500' },
      });
      expect(one(spans, 'invoke_agent llm')).toMatchObject({
        statusCode: ERROR_STATUS,
        attributes: { 'error.type': 'AGENT_FAILED' },
      });
      expect(one(spans, 'session.message')).toMatchObject({
        statusCode: ERROR_STATUS,
        attributes: { 'rpc.jsonrpc.error_code': reply.body.error.code },
      });
      expect(JSON.stringify(spans)).not.toContain('upstream broke');
    });

    it('joins the trace in params._meta.traceparent of a WebSocket call, _meta being no parameter', async () => {
      const incoming = incomingTrace();
      const client = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
      try {
        const reply = await client.call('session.create', {
          agentId: 'llm',
          _meta: { traceparent: incoming.traceparent, tracestate: 'vendor=1' },
        });
        expect(reply.result.sessionKey).toMatch(/^ses_/);
      } finally {
        client.close();
      }
      const spans = await exported(incoming.traceId);
      expect(one(spans, 'session.create')).toMatchObject({
        parentSpanId: incoming.spanId,
        attributes: { 'openclaw.transport': 'ws', 'rpc.method': 'session.create' },
      });
      // The session's first event was committed in the call.
      expect(spans.some((span) => span.name === 'event_store.commit')).toBe(true);
    });

    it('prefers params._meta to the HTTP header, and ignores a malformed traceparent', async () => {
      const header = incomingTrace();
      const meta = incomingTrace();
      await postRpc(
        gateway.baseUrl,
        { jsonrpc: '2.0', id: 2, method: 'agent.list', params: { _meta: meta } },
        { headers: { ...gateway.auth, traceparent: header.traceparent } },
      );
      expect(one(await exported(meta.traceId), 'agent.list').parentSpanId).toBe(meta.spanId);
      expect(receiver.trace(header.traceId)).toEqual([]);

      const before = receiver.spans.length;
      const reply = await postRpc(
        gateway.baseUrl,
        { jsonrpc: '2.0', id: 3, method: 'agent.list', params: {} },
        { headers: { ...gateway.auth, traceparent: '00-not-a-trace-01' } },
      );
      expect(reply.body.result).toBeInstanceOf(Array);
      await gateway.app.get(TracingService).flush();
      const fresh = receiver.spans.slice(before).filter((span) => span.name === 'agent.list');
      expect(fresh).toHaveLength(1);
      expect(fresh[0].parentSpanId).toBeUndefined();
    });

    it('records the JSON-RPC error code of a refused call, each batch element in a span of its own', async () => {
      const incoming = incomingTrace();
      const reply = await postRpc(
        gateway.baseUrl,
        [
          { jsonrpc: '2.0', id: 1, method: 'session.history', params: { sessionKey: 'ses_x' } },
          { jsonrpc: '2.0', id: 2, method: 'agent.list', params: { unknown: true } },
          { jsonrpc: '2.0', id: 3, method: 'agent.list', params: {} },
        ],
        { headers: { ...gateway.auth, traceparent: incoming.traceparent } },
      );
      const codes = (reply.body as Array<{ error?: { code: number } }>).map((r) => r.error?.code);
      const spans = await exported(incoming.traceId);
      expect(spans).toHaveLength(3);
      const failed = spans.filter((span) => span.statusCode === ERROR_STATUS);
      expect(failed.map((span) => span.attributes['rpc.jsonrpc.error_code']).sort()).toEqual(
        codes.filter((code) => code !== undefined).sort(),
      );
      expect(failed).toHaveLength(2);
      for (const span of spans) expect(span.parentSpanId).toBe(incoming.spanId);
    });

    it('takes the traceparent of a /v1/chat/completions request: the request span > the turn', async () => {
      const incoming = incomingTrace();
      const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          ...gateway.auth,
          'content-type': 'application/json',
          traceparent: incoming.traceparent,
        },
        body: JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(response.status).toBe(200);
      const spans = await exported(incoming.traceId);
      const request = one(spans, 'POST /v1/chat/completions');
      expect(request).toMatchObject({
        parentSpanId: incoming.spanId,
        kind: SERVER_KIND,
        attributes: { 'http.route': '/v1/chat/completions' },
      });
      expect(one(spans, 'invoke_agent echo').parentSpanId).toBe(request.spanId);
    });

    it('takes the traceparent of /mcp requests, and of a tools/call in its params._meta', async () => {
      const header = incomingTrace();
      const token = await signToken({ sub: 'mcp-user', scope: MCP_SCOPES });
      const client = new Client({ name: 'traced', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${gateway.baseUrl}/mcp`), {
          requestInit: {
            headers: { authorization: `Bearer ${token}`, traceparent: header.traceparent },
          },
        }),
      );
      try {
        await client.callTool({ name: 'echo', arguments: { text: 'a' } });
        const meta = incomingTrace();
        await client.callTool({
          name: 'echo',
          arguments: { text: 'b' },
          _meta: { traceparent: meta.traceparent },
        });

        const spans = await exported(header.traceId);
        const requests = spans.filter((span) => span.name === 'POST /mcp');
        expect(requests.length).toBeGreaterThanOrEqual(2);
        for (const request of requests) expect(request.parentSpanId).toBe(header.spanId);
        const tool = one(spans, 'execute_tool echo');
        expect(requests.map((request) => request.spanId)).toContain(tool.parentSpanId);
        // The second call joined the trace its _meta named instead.
        expect(one(receiver.trace(meta.traceId), 'execute_tool echo').parentSpanId).toBe(
          meta.spanId,
        );
      } finally {
        await client.close();
      }
    });

    it('sends the tool call trace context to an MCP server in params._meta', async () => {
      const incoming = incomingTrace();
      const reply = await postRpc(
        gateway.baseUrl,
        {
          jsonrpc: '2.0',
          id: 4,
          method: 'tools.execute',
          params: { name: 'tracer.meta', arguments: {} },
        },
        { headers: { ...gateway.auth, traceparent: incoming.traceparent } },
      );
      const seen = JSON.parse(reply.body.result.content[0].text as string) as {
        traceparent?: string;
      };
      const spans = await exported(incoming.traceId);
      const tool = one(spans, 'execute_tool tracer.meta');
      expect(tool.attributes['gen_ai.tool.type']).toBe('extension');
      expect(tool.parentSpanId).toBe(one(spans, 'tools.execute').spanId);
      expect(seen.traceparent).toBe(`00-${incoming.traceId}-${tool.spanId}-01`);
    });
  });
});

describe('at shutdown', () => {
  it('exports the spans still buffered when the gateway closes', async () => {
    const receiver = await OtlpReceiver.start();
    try {
      const gateway = await startGateway(
        {},
        {
          env: {
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          },
        },
      );
      const incoming = incomingTrace();
      await postRpc(
        gateway.baseUrl,
        { jsonrpc: '2.0', id: 1, method: 'agent.list', params: {} },
        { headers: { ...gateway.auth, traceparent: incoming.traceparent } },
      );
      // The batch processor waits 5 s before an export; closing must not lose what it holds.
      expect(receiver.trace(incoming.traceId)).toEqual([]);
      await gateway.close();
      expect(receiver.trace(incoming.traceId).map((span) => span.name)).toEqual(['agent.list']);
    } finally {
      await receiver.close();
    }
  });
});

describe('with tracing off', () => {
  let gateway: TestGateway;
  const { rpc } = rpcOver(() => gateway);

  beforeAll(async () => {
    // An endpoint, but the SDK disabled: off, as the OpenTelemetry specification says.
    gateway = await startGateway(
      {},
      { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'true' } },
    );
  });
  afterAll(async () => gateway?.close());

  it('makes no tracer and still accepts params._meta', async () => {
    expect(gateway.app.get(TracingService).enabled).toBe(false);
    const { traceparent } = incomingTrace();
    const reply = await rpc('agent.list', { _meta: { traceparent } });
    expect(reply.result).toBeInstanceOf(Array);
    // A _meta that is not an object is dropped too; other unknown keys are still refused.
    expect((await rpc('agent.list', { _meta: 'x' })).result).toBeInstanceOf(Array);
    expect((await rpc('agent.list', { _metas: {} })).error?.code).toBe(-32602);
  });
});

describe('tracing configuration', () => {
  it('stops the boot on an endpoint that is not an http(s) URL, naming the variable', async () => {
    await expect(
      startGateway({}, { env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318' } }),
    ).rejects.toThrow(/OTEL_EXPORTER_OTLP_TRACES_ENDPOINT/);
  });
});
