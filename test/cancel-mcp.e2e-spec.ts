import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rpcOver, startGateway, WsTestClient, type TestGateway } from './support/gateway.js';
import {
  FakeOpenAiServer,
  streamChunks,
  toolCallChunks,
} from './support/openai-compatible-server.js';

/**
 * An MCP server (streamable HTTP, one session) whose `hold` tool runs until its request is
 * cancelled; it records every `notifications/cancelled` it receives and every aborted run.
 */
async function startRecordingMcpServer() {
  const cancelled: Array<{ requestId?: unknown; reason?: unknown }> = [];
  const aborted: string[] = [];
  let started!: () => void;
  const state = { started: new Promise<void>((resolve) => (started = resolve)) };
  const server = new McpServer({ name: 'recording', version: '1.0.0' });
  server.registerTool(
    'hold',
    { description: 'Runs until cancelled.', inputSchema: {} },
    async (_args, extra) => {
      started();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20_000);
        extra.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          aborted.push(String(extra.requestId));
          resolve();
        });
      });
      return { content: [{ type: 'text', text: 'held' }] };
    },
  );
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID() });
  await server.connect(transport);
  const http: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      const body: unknown = text ? JSON.parse(text) : undefined;
      for (const message of Array.isArray(body) ? body : [body]) {
        const m = message as {
          method?: string;
          params?: { requestId?: unknown; reason?: unknown };
        };
        if (m?.method === 'notifications/cancelled') cancelled.push({ ...m.params });
      }
      void transport.handleRequest(req, res, body);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    cancelled,
    aborted,
    get started() {
      return state.started;
    },
    rearm() {
      state.started = new Promise<void>((resolve) => (started = resolve));
    },
    close: async () => {
      await server.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

describe('cancelling MCP tool calls', () => {
  let mcp: Awaited<ReturnType<typeof startRecordingMcpServer>>;
  let provider: FakeOpenAiServer;
  let gateway: TestGateway;
  const { ok } = rpcOver(() => gateway);

  beforeAll(async () => {
    mcp = await startRecordingMcpServer();
    provider = await FakeOpenAiServer.start();
    gateway = await startGateway({
      mcpServers: { slow: { url: mcp.url } },
      agents: [provider.agent({ tools: ['slow.hold'], timeout: '30s' })],
    });
    const deadline = Date.now() + 10_000;
    while (
      !((await ok('tools.list', {})) as Array<{ name: string }>).some((t) => t.name === 'slow.hold')
    ) {
      if (Date.now() > deadline) throw new Error('slow.hold never listed');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  afterAll(async () => {
    await provider?.close();
    await gateway?.close();
    await mcp?.close();
  });

  it('$/cancelRequest of tools.execute sends notifications/cancelled to the MCP server', async () => {
    mcp.rearm();
    const client = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    try {
      client.send({
        jsonrpc: '2.0',
        id: 'tool',
        method: 'tools.execute',
        params: { name: 'slow.hold', arguments: {} },
      });
      await mcp.started;
      client.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 'tool' } });
      expect((await client.next((f) => f.id === 'tool')).error.code).toBe(-32800);
      await waitUntil(() => mcp.aborted.length === 1);
      expect(mcp.cancelled).toHaveLength(1);
      expect(String(mcp.cancelled[0].requestId)).toBe(mcp.aborted[0]);
    } finally {
      client.close();
    }
  });

  it('session.cancel of a turn whose MCP tool runs cancels the MCP request and records the turn', async () => {
    mcp.rearm();
    provider.next((_request, res) =>
      streamChunks(res, toolCallChunks('call_hold', 'slow_hold', {})),
    );
    const { sessionKey } = await ok('session.create', { agentId: 'llm' });
    const turn = ok('session.message', { sessionKey, content: 'Hold on' });
    await mcp.started;
    expect(await ok('session.cancel', { sessionKey })).toEqual({ cancelled: true });
    expect((await turn).finishReason).toBe('cancelled');
    await waitUntil(() => mcp.aborted.length === 2);
    expect(mcp.cancelled).toHaveLength(2);
    const events = (await ok('session.history', { sessionKey })) as any[];
    expect(events.map((e) => e.type).slice(-3)).toEqual([
      'tool.call',
      'tool.result',
      'message.agent',
    ]);
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
