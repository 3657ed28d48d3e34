import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { signToken } from './auth-tokens.js';
import type { TestGateway } from './gateway.js';

/** The scopes an MCP client needs for everything /mcp serves. */
export const MCP_SCOPES = 'tools:read tools:execute';

export function mcpTransport(gateway: TestGateway, token: string): StreamableHTTPClientTransport {
  return new StreamableHTTPClientTransport(new URL(`${gateway.baseUrl}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
}

/** An MCP SDK client connected to the gateway with a token of that subject and scopes. */
export async function connect(
  gateway: TestGateway,
  claims: { sub?: string; scope?: string } = {},
  options: ConstructorParameters<typeof Client>[1] = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const token = await signToken({ sub: 'mcp-user', scope: MCP_SCOPES, ...claims });
  const client = new Client({ name: 'e2e', version: '1.0.0' }, options);
  const transport = mcpTransport(gateway, token);
  await client.connect(transport);
  return { client, transport };
}

/** A raw initialize request, as a client that does not use the SDK sends it. */
export function initialize(baseUrl: string, token: string, headers: Record<string, string> = {}) {
  return fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'raw', version: '1' },
      },
    }),
  });
}

/** A raw tools/list in a session. */
export function listRaw(baseUrl: string, token: string, sessionId: string) {
  return fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
  });
}

/** Polls a condition with a deadline (for state the server does not announce). */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
