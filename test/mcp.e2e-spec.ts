import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  FakeOpenAiServer,
  streamChunks,
  textChunks,
  toolCallChunks,
} from './support/openai-compatible-server.js';
import { startGateway, type TestGateway, rpcOver } from './support/gateway.js';

const STDIO_SERVER = fileURLToPath(new URL('./fixtures/mcp-stdio-server.mjs', import.meta.url));

/** A streamable HTTP MCP server, stateless: a fresh server and transport per request. */
async function startHttpMcpServer(
  port = 0,
): Promise<{ url: string; port: number; close: () => Promise<void> }> {
  const http: Server = createServer((req, res) => {
    if (req.headers['x-test-key'] !== 'sesame') {
      res.writeHead(401).end();
      return;
    }
    const server = new McpServer({ name: 'test-http', version: '1.0.0' });
    server.registerTool(
      'add',
      {
        description: 'Adds two numbers.',
        inputSchema: { a: z.number(), b: z.number() },
        outputSchema: { sum: z.number() },
        annotations: { title: 'Add', readOnlyHint: true },
      },
      ({ a, b }) => ({
        content: [{ type: 'text', text: String(a + b) }],
        structuredContent: { sum: a + b },
      }),
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    void server.connect(transport).then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const bound = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/mcp`,
    port: bound,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

describe('tools from MCP servers', () => {
  let gateway: TestGateway;
  let httpServer: Awaited<ReturnType<typeof startHttpMcpServer>>;
  let provider: FakeOpenAiServer;

  const { rpc, ok } = rpcOver(() => gateway);
  const toolNames = async () =>
    ((await ok('tools.list', {})) as Array<{ name: string }>).map((tool) => tool.name);
  /** Polls tools.list until the predicate holds (the change comes from another process). */
  const waitForTools = async (predicate: (names: string[]) => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const names = await toolNames();
      if (predicate(names)) return names;
      if (Date.now() > deadline) throw new Error(`tools never matched: ${names.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  beforeAll(async () => {
    httpServer = await startHttpMcpServer();
    provider = await FakeOpenAiServer.start();
    gateway = await startGateway({
      mcpServers: {
        local: { command: process.execPath, args: [STDIO_SERVER] },
        remote: { url: httpServer.url, headers: { 'x-test-key': 'sesame' } },
      },
      agents: [provider.agent({ id: 'mcp-agent', tools: ['local.shout', 'remote.add'] })],
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await httpServer?.close();
    await provider?.close();
  });

  it('lists the tools of both servers with their prefix, schema and annotations', async () => {
    const tools = (await ok('tools.list', {})) as any[];
    expect(tools.find((t) => t.name === 'local.shout')).toMatchObject({
      description: 'Returns the text in capitals.',
      source: 'mcp:local',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      annotations: { title: 'Shout', readOnlyHint: true, idempotentHint: true },
    });
    expect(tools.find((t) => t.name === 'remote.add')).toMatchObject({
      source: 'mcp:remote',
      annotations: { title: 'Add', readOnlyHint: true },
      outputSchema: { type: 'object' },
    });
  });

  it('executes MCP tools through tools.execute', async () => {
    expect(
      await ok('tools.execute', { name: 'local.shout', arguments: { text: 'hey' } }),
    ).toMatchObject({ content: [{ type: 'text', text: 'HEY' }], isError: false });
    expect(
      await ok('tools.execute', { name: 'remote.add', arguments: { a: 2, b: 3 } }),
    ).toMatchObject({ structuredContent: { sum: 5 }, isError: false });
    // The registry validates against the server's schema before calling it.
    const bad = await rpc('tools.execute', { name: 'remote.add', arguments: { a: 'two' } });
    expect(bad.error?.code).toBe(-32602);
  });

  it('lets an agent call MCP tools in its allow list', async () => {
    provider.next(
      (_request, res) =>
        streamChunks(res, toolCallChunks('call_a', 'local_shout', { text: 'mcp' })),
      (_request, res) => streamChunks(res, toolCallChunks('call_b', 'remote_add', { a: 1, b: 2 })),
      (_request, res) => streamChunks(res, textChunks('MCP and 3')),
    );
    const { sessionKey } = await ok('session.create', { agentId: 'mcp-agent' });
    const reply = await ok('session.message', { sessionKey, content: 'use both' });
    expect(reply).toMatchObject({ content: 'MCP and 3', finishReason: 'stop' });
    expect(
      provider.requests
        .at(-3)!
        .tools?.map((t) => t.function.name)
        .sort(),
    ).toEqual(['local_shout', 'remote_add']);
    const events = (await ok('session.history', { sessionKey, limit: 100 })) as any[];
    const results = events.filter((e) => e.type === 'tool.result').map((e) => e.data);
    expect(results).toMatchObject([
      { name: 'local.shout', result: { content: [{ type: 'text', text: 'MCP' }] } },
      { name: 'remote.add', result: { structuredContent: { sum: 3 } } },
    ]);
  });

  it('honours tools/list_changed', async () => {
    await ok('tools.execute', { name: 'local.grow', arguments: { name: 'sprout' } });
    await waitForTools((names) => names.includes('local.sprout'));
    expect(await ok('tools.execute', { name: 'local.sprout', arguments: {} })).toMatchObject({
      content: [{ type: 'text', text: 'sprout here' }],
    });
  });

  it('unregisters the tools of a killed stdio server and brings them back on reconnect', async () => {
    const before = await ok('tools.execute', { name: 'local.pid', arguments: {} });
    const pid = Number(before.content[0].text);
    process.kill(pid, 'SIGKILL');

    await waitForTools((names) => !names.includes('local.shout'));
    expect(await toolNames()).toContain('remote.add');
    const missing = await rpc('tools.execute', { name: 'local.shout', arguments: { text: 'x' } });
    expect(missing.error?.code).toBe(-32004);

    await waitForTools((names) => names.includes('local.shout'));
    const after = await ok('tools.execute', { name: 'local.pid', arguments: {} });
    expect(Number(after.content[0].text)).not.toBe(pid);
    expect(
      await ok('tools.execute', { name: 'local.shout', arguments: { text: 'back' } }),
    ).toMatchObject({ content: [{ type: 'text', text: 'BACK' }] });
  });
});

describe('an MCP server over HTTP that dies without a word', () => {
  it('is noticed by its missed pings, its tools withdrawn, and reconnected when it returns', async () => {
    let server = await startHttpMcpServer();
    const gateway = await startGateway({
      mcpServers: {
        flaky: { url: server.url, headers: { 'x-test-key': 'sesame' }, pingInterval: '200ms' },
      },
    });
    const { ok, rpc } = rpcOver(() => gateway);
    const names = async () =>
      ((await ok('tools.list', {})) as Array<{ name: string }>).map((tool) => tool.name);
    const waitFor = async (predicate: (list: string[]) => boolean) => {
      const deadline = Date.now() + 15_000;
      while (!predicate(await names())) {
        if (Date.now() > deadline)
          throw new Error(`tools never matched: ${(await names()).join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    try {
      expect(await names()).toContain('flaky.add');
      // Streamable HTTP keeps no connection open: nothing but a ping can tell it is gone.
      await server.close();
      await waitFor((list) => !list.includes('flaky.add'));
      expect(
        (await rpc('tools.execute', { name: 'flaky.add', arguments: { a: 1, b: 1 } })).error,
      ).toMatchObject({ code: -32004 });

      server = await startHttpMcpServer(server.port);
      await waitFor((list) => list.includes('flaky.add'));
      expect(
        await ok('tools.execute', { name: 'flaky.add', arguments: { a: 1, b: 1 } }),
      ).toMatchObject({ structuredContent: { sum: 2 } });
    } finally {
      await gateway.close();
      await server.close();
    }
  });
});

describe('MCP configuration', () => {
  it('refuses to boot with an invalid server, naming the key', async () => {
    await expect(startGateway({ mcpServers: { broken: { args: ['x'] } } })).rejects.toThrow(
      /mcpServers\.broken\.command/,
    );
    await expect(
      startGateway({
        mcpServers: { slow: { url: 'http://127.0.0.1:1/mcp', pingInterval: 'often' } },
      }),
    ).rejects.toThrow(/mcpServers\.slow\.pingInterval/);
  });
});
