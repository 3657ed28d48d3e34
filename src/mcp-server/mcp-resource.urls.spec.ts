import 'reflect-metadata';
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config/config.loader.js';
import { mcpResourceUrls } from './mcp-resource.urls.js';

function request(host: string, protocol: 'http' | 'https' = 'http'): FastifyRequest {
  return { host, protocol } as FastifyRequest;
}

describe('mcpResourceUrls', () => {
  it('uses the configured public URL, whatever the request says', () => {
    const config = loadConfig({
      env: {},
      ignoreFile: true,
      overrides: { mcp: { publicUrl: 'https://gw.example.com/tools/' } },
    });
    expect(mcpResourceUrls(config, request('10.0.0.5:18789'))).toEqual({
      base: 'https://gw.example.com/tools',
      resource: 'https://gw.example.com/tools/mcp',
      metadata: 'https://gw.example.com/tools/.well-known/oauth-protected-resource',
    });
  });

  it('falls back to the request’s scheme and Host', () => {
    const config = loadConfig({ env: {}, ignoreFile: true });
    expect(mcpResourceUrls(config, request('gw.local:8080')).resource).toBe(
      'http://gw.local:8080/mcp',
    );
    expect(mcpResourceUrls(config, request('[::1]:8080')).resource).toBe('http://[::1]:8080/mcp');
  });

  it('never echoes a Host that could break out of the challenge’s quoted string', () => {
    const config = loadConfig({ env: {}, ignoreFile: true });
    const urls = mcpResourceUrls(config, request('evil", error="x'));
    expect(urls.metadata).toBe('http://127.0.0.1:18789/.well-known/oauth-protected-resource');
  });

  it('refuses a public URL with a query at boot, naming the key', () => {
    expect(() =>
      loadConfig({
        env: { OPENCLAW_MCP_PUBLIC_URL: 'https://gw.example.com/?x=1' },
        ignoreFile: true,
      }),
    ).toThrow(/mcp\.publicUrl/);
  });
});
