import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpSessionRegistry } from '../src/mcp-server/mcp-session.registry.js';
import { signToken } from './support/auth-tokens.js';
import { postRpc, startGateway, type TestGateway } from './support/gateway.js';
import {
  connect,
  initialize,
  listRaw,
  MCP_SCOPES,
  mcpTransport,
  until,
} from './support/mcp-client.js';

describe('MCP sessions stay bounded', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startGateway({
      mcp: { maxSessionsPerSubject: 4, maxSessions: 10, sessionIdleTimeout: '1s' },
    });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it('holds at most maxSessionsPerSubject, closing the least recently used, one after another', async () => {
    const token = await signToken({ sub: 'reconnector', scope: MCP_SCOPES });
    const registry = gateway.app.get(McpSessionRegistry);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const reply = await initialize(gateway.baseUrl, token);
      expect(reply.status).toBe(200);
      ids.push(reply.headers.get('mcp-session-id')!);
      await reply.text();
      expect(registry.countFor('reconnector')).toBeLessThanOrEqual(4);
    }
    expect(new Set(ids).size).toBe(40);
    // The earliest were closed (a client holding one is told to start again); the latest work.
    expect((await listRaw(gateway.baseUrl, token, ids[0])).status).toBe(404);
    expect((await listRaw(gateway.baseUrl, token, ids.at(-1)!)).status).toBe(200);
  });

  it('stays bounded under a concurrent flood of initialize requests', async () => {
    const token = await signToken({ sub: 'flooder', scope: MCP_SCOPES });
    const registry = gateway.app.get(McpSessionRegistry);
    const statuses = new Map<number, number>();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let wave = 0; wave < 10; wave++) {
      const replies = await Promise.all(
        Array.from({ length: 30 }, () => initialize(gateway.baseUrl, token)),
      );
      for (const reply of replies) {
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        await reply.text();
      }
      expect(registry.countFor('flooder')).toBeLessThanOrEqual(4);
    }
    // A session evicted while its own initialize is in flight answers 404: start again.
    expect([...statuses.keys()].every((status) => status === 200 || status === 404)).toBe(true);
    expect(statuses.get(200)).toBeGreaterThan(0);
    expect(registry.countFor('flooder')).toBeLessThanOrEqual(4);
    // 300 sessions opened, at most 4 kept: memory does not grow with the flood.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses new sessions with 503 when the instance is full, without evicting other subjects', async () => {
    const registry = gateway.app.get(McpSessionRegistry);
    const opened: string[] = [];
    for (const sub of ['a', 'b', 'c']) {
      const token = await signToken({ sub, scope: MCP_SCOPES });
      for (let i = 0; i < 4 && registry.size < 10; i++) {
        const reply = await initialize(gateway.baseUrl, token);
        expect(reply.status).toBe(200);
        opened.push(sub);
        await reply.text();
      }
    }
    expect(registry.size).toBe(10);
    const late = await initialize(
      gateway.baseUrl,
      await signToken({ sub: 'd', scope: MCP_SCOPES }),
    );
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toBe('5');
    expect(registry.size).toBe(10);
  });

  it('closes idle sessions after sessionIdleTimeout', async () => {
    const registry = gateway.app.get(McpSessionRegistry);
    await until(() => registry.size === 0, 'idle sessions closed', 5000);
    const token = await signToken({ sub: 'sleeper', scope: MCP_SCOPES });
    const reply = await initialize(gateway.baseUrl, token);
    const id = reply.headers.get('mcp-session-id')!;
    await reply.text();
    expect(registry.countFor('sleeper')).toBe(1);
    await until(() => registry.countFor('sleeper') === 0, 'idle expiry', 5000);
    expect((await listRaw(gateway.baseUrl, token, id)).status).toBe(404);
  });
});

describe('MCP limits and configuration', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startGateway({
      rateLimit: { client: { limit: 5, ttl: '60s' } },
      auth: { jwt: { issuer: 'https://id.example.com/realms/corp', clockTolerance: 0 } },
      mcp: { publicUrl: 'https://gateway.example.com/' },
    });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it('names the configured issuer and public URL in the metadata and challenges', async () => {
    const reply = await fetch(`${gateway.baseUrl}/.well-known/oauth-protected-resource`);
    expect(await reply.json()).toMatchObject({
      resource: 'https://gateway.example.com/mcp',
      authorization_servers: ['https://id.example.com/realms/corp'],
    });
    const refused = await initialize(gateway.baseUrl, 'not-a-token');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain(
      'resource_metadata="https://gateway.example.com/.well-known/oauth-protected-resource"',
    );
  });

  it('counts /mcp requests against the same client budget as JSON-RPC calls', async () => {
    const token = await signToken({
      sub: 'budgeted',
      scope: `${MCP_SCOPES} agents:read`,
      iss: 'https://id.example.com/realms/corp',
    });
    for (let i = 0; i < 3; i++) {
      const reply = await postRpc(
        gateway.baseUrl,
        { jsonrpc: '2.0', id: i, method: 'agent.list', params: {} },
        { headers: { authorization: `Bearer ${token}` } },
      );
      expect(reply.body.result).toBeDefined();
    }
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const reply = await initialize(gateway.baseUrl, token);
      statuses.push(reply.status);
      if (reply.status === 429) retryAfter = reply.headers.get('retry-after');
      await reply.text();
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });

  it('ends the notification stream when its token expires; the reconnect is refused', async () => {
    const token = await signToken(
      { sub: 'short-lived', scope: MCP_SCOPES, iss: 'https://id.example.com/realms/corp' },
      { exp: Math.floor(Date.now() / 1000) + 2 },
    );
    const errors: unknown[] = [];
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    client.onerror = (error) => errors.push(error);
    const transport = mcpTransport(gateway, token);
    await client.connect(transport);
    const registry = gateway.app.get(McpSessionRegistry);
    const caller = { subject: 'short-lived', scopes: new Set<string>() };
    await until(() => registry.find(transport.sessionId!, caller)?.busy === true, 'GET stream');
    await until(
      () => errors.some((e) => e instanceof StreamableHTTPError && e.code === 401),
      'the stream to end and its reconnect to be refused',
      8000,
    );
    expect(registry.find(transport.sessionId!, caller)?.busy).toBe(false);
    await client.close();
  });
});

describe('MCP at shutdown', () => {
  it('closes sessions and their open streams, so the gateway stops promptly', async () => {
    const gateway = await startGateway();
    const { client, transport } = await connect(gateway);
    const registry = gateway.app.get(McpSessionRegistry);
    const caller = { subject: 'mcp-user', scopes: new Set<string>() };
    await until(() => registry.find(transport.sessionId!, caller)?.busy === true, 'GET stream');
    const started = Date.now();
    await gateway.close();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(registry.size).toBe(0);
    await client.close();
  });
});
