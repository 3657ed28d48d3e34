import { Injectable, Module } from '@nestjs/common';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpSdkLoader } from '../src/mcp-server/mcp-sdk.loader.js';
import { McpSessionRegistry } from '../src/mcp-server/mcp-session.registry.js';
import { GatewayTool } from '../src/tools/tool.decorator.js';
import { ToolRegistry } from '../src/tools/tool.registry.js';
import type { Tool, ToolInputSchema, ToolOutput } from '../src/tools/tool.types.js';
import { signToken } from './support/auth-tokens.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import {
  connect,
  initialize,
  listRaw,
  MCP_SCOPES,
  mcpTransport,
  until,
} from './support/mcp-client.js';

@Injectable()
@GatewayTool()
class WeatherTool implements Tool {
  readonly name = 'weather.report';
  readonly description = 'The weather in a city.';
  readonly source = 'provider';
  readonly inputSchema: ToolInputSchema = {
    type: 'object',
    properties: { city: { type: 'string', maxLength: 64 } },
    required: ['city'],
    additionalProperties: false,
  };
  readonly outputSchema = {
    type: 'object',
    properties: { city: { type: 'string' }, celsius: { type: 'number' } },
    required: ['city', 'celsius'],
  };
  readonly annotations = { title: 'Weather', readOnlyHint: true, openWorldHint: false };

  execute(args: Record<string, unknown>): Promise<ToolOutput> {
    const report = { city: args.city as string, celsius: 21.5 };
    return Promise.resolve({
      content: [{ type: 'text', text: JSON.stringify(report) }],
      structuredContent: report,
    });
  }
}

@Injectable()
@GatewayTool()
class RefusingTool implements Tool {
  readonly name = 'always.refuses';
  readonly description = 'Answers with an error the model should see.';
  readonly source = 'provider';
  readonly inputSchema: ToolInputSchema = { type: 'object' };

  execute(): Promise<ToolOutput> {
    return Promise.resolve({ content: [{ type: 'text', text: 'no such account' }], isError: true });
  }
}

@Injectable()
@GatewayTool()
class ThrowingTool implements Tool {
  readonly name = 'always.throws';
  readonly description = 'Throws an internal error.';
  readonly source = 'provider';
  readonly inputSchema: ToolInputSchema = { type: 'object' };

  execute(): Promise<ToolOutput> {
    return Promise.reject(new Error('secret database password in a stack'));
  }
}

@Module({ providers: [WeatherTool, RefusingTool, ThrowingTool] })
class McpTestToolsModule {}

async function httpStatusOf(promise: Promise<unknown>): Promise<StreamableHTTPError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(StreamableHTTPError);
  return error as StreamableHTTPError;
}

describe('MCP front door at /mcp', () => {
  let gateway: TestGateway;
  const clients: Client[] = [];

  beforeAll(async () => {
    gateway = await startGateway({}, { imports: [McpTestToolsModule] });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await gateway?.close();
  });

  async function connected(
    claims: { sub?: string; scope?: string } = {},
    options: ConstructorParameters<typeof Client>[1] = {},
  ) {
    const session = await connect(gateway, claims, options);
    clients.push(session.client);
    return session;
  }

  it('loads the MCP SDK only when the first /mcp request arrives', async () => {
    const loader = gateway.app.get(McpSdkLoader);
    expect(loader.loaded).toBe(false);
    await connected();
    expect(loader.loaded).toBe(true);
  });

  it('lists the registry’s tools with their schemas, annotations and source', async () => {
    const { client } = await connected();
    const { tools } = await client.listTools();
    const byName = new Map<string, McpTool>(tools.map((tool) => [tool.name, tool]));
    expect([...byName.keys()]).toEqual(
      expect.arrayContaining(['echo', 'clock.now', 'weather.report', 'always.refuses']),
    );
    expect(byName.get('echo')).toMatchObject({
      title: 'Echo',
      inputSchema: { type: 'object', required: ['text'] },
      annotations: { readOnlyHint: true },
      _meta: { 'openclaw/source': 'builtin' },
    });
    expect(byName.get('weather.report')).toMatchObject({
      outputSchema: { type: 'object', required: ['city', 'celsius'] },
      annotations: { title: 'Weather', openWorldHint: false },
      _meta: { 'openclaw/source': 'provider' },
    });
  });

  it('runs a tool through the registry and carries structuredContent', async () => {
    const { client } = await connected();
    await client.listTools(); // the SDK client validates structuredContent against outputSchema
    const echoed = await client.callTool({ name: 'echo', arguments: { text: 'hello mcp' } });
    expect(echoed).toMatchObject({
      content: [{ type: 'text', text: 'hello mcp' }],
      isError: false,
    });
    expect(typeof echoed._meta?.['openclaw/durationMs']).toBe('number');

    const weather = await client.callTool({
      name: 'weather.report',
      arguments: { city: 'Lyon' },
    });
    expect(weather.structuredContent).toEqual({ city: 'Lyon', celsius: 21.5 });
    expect(weather.isError).toBe(false);

    // Counted with the JSON-RPC methods, under the MCP method's name.
    const status = (await (
      await fetch(`${gateway.baseUrl}/status`, { headers: gateway.auth })
    ).json()) as { calls: { byMethod: Record<string, { calls: number; failures: number }> } };
    expect(status.calls.byMethod['mcp tools/call']?.calls).toBeGreaterThanOrEqual(2);
    expect(status.calls.byMethod['mcp tools/list']?.calls).toBeGreaterThanOrEqual(1);
  });

  it('answers bad arguments with isError naming what to correct, without running the tool', async () => {
    const { client } = await connected();
    const result = await client.callTool({ name: 'echo', arguments: { text: 5, extra: true } });
    expect(result.isError).toBe(true);
    const text = (result.content as Array<{ text: string }>)[0].text;
    expect(text).toContain('Invalid arguments for tool "echo"');
    expect(text).toContain('text: must be string');
    expect(text).toContain('extra: property should not exist');

    const tooLong = await client.callTool({
      name: 'weather.report',
      arguments: { city: 'x'.repeat(65) },
    });
    expect(tooLong.isError).toBe(true);
  });

  it('answers an unknown tool with a JSON-RPC invalid-params error', async () => {
    const { client } = await connected();
    await expect(client.callTool({ name: 'no.such.tool', arguments: {} })).rejects.toMatchObject({
      code: -32602,
      message: expect.stringContaining('Tool "no.such.tool" not found'),
    });
  });

  it('carries a tool’s own isError, and turns a throw into a safe isError', async () => {
    const { client } = await connected();
    const refused = await client.callTool({ name: 'always.refuses', arguments: {} });
    expect(refused).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: 'no such account' }],
    });
    const thrown = await client.callTool({ name: 'always.throws', arguments: {} });
    expect(thrown.isError).toBe(true);
    expect(JSON.stringify(thrown)).toContain('Tool \\"always.throws\\" failed');
    expect(JSON.stringify(thrown)).not.toContain('password');
  });

  it('lets a caller without tools:execute list tools but refuses its calls with 403', async () => {
    const { client } = await connected({ sub: 'reader', scope: 'tools:read' });
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    const error = await httpStatusOf(client.callTool({ name: 'echo', arguments: { text: 'x' } }));
    expect(error.code).toBe(403);
    expect(error.message).toContain('tools:execute');
  });

  it('refuses tools/list to a caller without tools:read, with an insufficient_scope challenge', async () => {
    const token = await signToken({ sub: 'runner', scope: 'tools:execute' });
    const { client, transport } = await connected({ sub: 'runner', scope: 'tools:execute' });
    const error = await httpStatusOf(client.listTools());
    expect(error.code).toBe(403);
    // The challenge itself, as a client that handles step-up authorization reads it.
    const reply = await listRaw(gateway.baseUrl, token, transport.sessionId!);
    expect(reply.status).toBe(403);
    expect(reply.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", scope="tools:read", resource_metadata="${gateway.baseUrl}/.well-known/oauth-protected-resource"`,
    );
    expect(await reply.json()).toMatchObject({
      jsonrpc: '2.0',
      id: 2,
      error: { code: -32003, data: { requiredScope: 'tools:read' } },
    });
  });

  it('answers an expired token with 401 and a challenge naming the resource metadata', async () => {
    const expired = await signToken(
      { sub: 'mcp-user', scope: MCP_SCOPES },
      { exp: Math.floor(Date.now() / 1000) - 3600 },
    );
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    const error = await httpStatusOf(client.connect(mcpTransport(gateway, expired)));
    expect(error.code).toBe(401);

    const reply = await initialize(gateway.baseUrl, expired);
    expect(reply.status).toBe(401);
    const challenge = reply.headers.get('www-authenticate')!;
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain('error="invalid_token"');
    expect(challenge).toContain(
      `resource_metadata="${gateway.baseUrl}/.well-known/oauth-protected-resource"`,
    );
    expect(await reply.json()).toMatchObject({ error: { code: -32001 } });
  });

  it('answers a missing token with 401 and a challenge without an error code', async () => {
    const reply = await fetch(`${gateway.baseUrl}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    });
    expect(reply.status).toBe(401);
    const challenge = reply.headers.get('www-authenticate')!;
    expect(challenge).not.toContain('error=');
    expect(challenge).toContain('resource_metadata="');
  });

  it('serves the protected-resource metadata publicly, at both well-known forms', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/mcp',
    ]) {
      const reply = await fetch(`${gateway.baseUrl}${path}`);
      expect(reply.status).toBe(200);
      expect(await reply.json()).toEqual({
        resource: `${gateway.baseUrl}/mcp`,
        authorization_servers: [gateway.baseUrl],
        bearer_methods_supported: ['header'],
        scopes_supported: ['tools:read', 'tools:execute'],
        resource_name: 'openclaw-gateway MCP server',
      });
    }
  });

  it('tells connected clients when a tool is registered or removed at run time', async () => {
    const seen: string[][] = [];
    const { transport } = await connected(
      {},
      {
        listChanged: {
          tools: {
            debounceMs: 0,
            onChanged: (error, tools) => {
              if (!error && tools) seen.push(tools.map((tool) => tool.name));
            },
          },
        },
      },
    );
    // The notification travels on the GET stream the client opens after initializing.
    const registry = gateway.app.get(McpSessionRegistry);
    const caller = { subject: 'mcp-user', scopes: new Set<string>() };
    await until(() => registry.find(transport.sessionId!, caller)?.busy === true, 'GET stream');

    const tools = gateway.app.get(ToolRegistry);
    tools.register({
      name: 'late.arrival',
      description: 'Registered at run time.',
      source: 'provider',
      inputSchema: { type: 'object' },
      execute: () => Promise.resolve({ content: [{ type: 'text', text: 'here' }] }),
    });
    await until(() => seen.some((names) => names.includes('late.arrival')), 'list_changed');
    tools.unregister('late.arrival');
    await until(() => seen.at(-1)?.includes('late.arrival') === false, 'second list_changed');
  });

  it('keeps a session to the subject that opened it', async () => {
    const { transport } = await connected({ sub: 'owner' });
    const intruder = await signToken({ sub: 'intruder', scope: MCP_SCOPES });
    const reply = await listRaw(gateway.baseUrl, intruder, transport.sessionId!);
    expect(reply.status).toBe(404);
  });

  it('ends a session on DELETE; its id is then unknown', async () => {
    const { transport } = await connected({ sub: 'leaver' });
    const id = transport.sessionId!;
    const registry = gateway.app.get(McpSessionRegistry);
    expect(registry.countFor('leaver')).toBe(1);
    await transport.terminateSession();
    expect(registry.countFor('leaver')).toBe(0);
    const token = await signToken({ sub: 'leaver', scope: MCP_SCOPES });
    expect((await listRaw(gateway.baseUrl, token, id)).status).toBe(404);
  });

  it('refuses a non-initialize request without a session id with 400', async () => {
    const reply = await fetch(`${gateway.baseUrl}/mcp`, {
      method: 'POST',
      headers: {
        ...gateway.auth,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: '{"jsonrpc":"2.0","id":7,"method":"tools/list"}',
    });
    expect(reply.status).toBe(400);
    expect(await reply.json()).toMatchObject({ id: 7, error: { code: -32600 } });
  });
});
