import 'reflect-metadata';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Caller } from '../core/identity/caller.js';
import { loadConfig } from '../core/config/config.loader.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { ToolRegistry } from '../tools/tool.registry.js';
import { McpRefusal } from './mcp-refusal.js';
import { McpSdkLoader } from './mcp-sdk.loader.js';
import { RpcStatsService } from '../core/rpc/rpc-stats.service.js';
import { McpSessionFactory } from './mcp-session.factory.js';
import { McpSessionRegistry } from './mcp-session.registry.js';

const caller = (subject: string): Caller => ({ subject, scopes: new Set(['tools:read']) });

let registry: McpSessionRegistry | undefined;

async function boot(mcp: Record<string, unknown>): Promise<{
  registry: McpSessionRegistry;
  tools: ToolRegistry;
}> {
  const config = loadConfig({ env: {}, ignoreFile: true, overrides: { mcp } });
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [ToolRegistry, { provide: GatewayConfig, useValue: config }],
  }).compile();
  const tools = moduleRef.get(ToolRegistry);
  tools.onModuleInit();
  registry = new McpSessionRegistry(
    config,
    tools,
    new McpSdkLoader(),
    new McpSessionFactory(tools, new RpcStatsService()),
  );
  registry.onModuleInit();
  return { registry, tools };
}

afterEach(async () => {
  await registry?.onModuleDestroy();
  registry = undefined;
});

describe('McpSessionRegistry', () => {
  it('closes a subject’s least recently used idle session to open one more', async () => {
    const { registry } = await boot({ maxSessionsPerSubject: 2 });
    const busyOldest = await registry.open(caller('alice'));
    const idle = await registry.open(caller('alice'));
    idle.end();
    const other = await registry.open(caller('bob'));
    const newest = await registry.open(caller('alice'));

    expect(idle.closed).toBe(true);
    expect(registry.find(idle.id, caller('alice'))).toBeUndefined();
    expect(registry.find(busyOldest.id, caller('alice'))).toBe(busyOldest);
    expect(registry.find(newest.id, caller('alice'))).toBe(newest);
    expect(registry.find(other.id, caller('bob'))).toBe(other);
    expect(registry.countFor('alice')).toBe(2);
  });

  it('keeps a session to its subject', async () => {
    const { registry } = await boot({});
    const session = await registry.open(caller('alice'));
    expect(registry.find(session.id, caller('mallory'))).toBeUndefined();
  });

  it('refuses a new session when the instance is full instead of evicting another subject', async () => {
    const { registry } = await boot({ maxSessions: 2 });
    await registry.open(caller('a'));
    await registry.open(caller('b'));
    const refusal = await registry.open(caller('c')).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(McpRefusal);
    expect((refusal as McpRefusal).status).toBe(503);
    expect(registry.size).toBe(2);
  });

  it('closes sessions idle past the timeout, never one with a request in flight', async () => {
    const { registry } = await boot({ sessionIdleTimeout: '1s' });
    const idle = await registry.open(caller('a'));
    idle.end();
    // Still in its first request, as a session holding its GET stream open would be.
    const listening = await registry.open(caller('a'));
    registry.closeIdle(Date.now() + 500);
    expect(registry.size).toBe(2);
    registry.closeIdle(Date.now() + 2000);
    expect(idle.closed).toBe(true);
    expect(listening.closed).toBe(false);
    expect(registry.size).toBe(1);
  });

  it('sends one list_changed per burst of registry changes', async () => {
    const { registry, tools } = await boot({});
    const session = await registry.open(caller('a'));
    const notify = vi.spyOn(session, 'notifyToolsChanged');
    for (const name of ['one', 'two', 'three']) {
      tools.register({
        name,
        description: name,
        source: 'test',
        inputSchema: { type: 'object' },
        execute: () => Promise.resolve({ content: [] }),
      });
    }
    tools.unregister('two');
    await new Promise((resolve) => setImmediate(resolve));
    expect(notify).toHaveBeenCalledTimes(1);
  });

  it('closes every session at shutdown', async () => {
    const { registry } = await boot({});
    const sessions = [await registry.open(caller('a')), await registry.open(caller('b'))];
    await registry.onModuleDestroy();
    expect(sessions.every((session) => session.closed)).toBe(true);
    expect(registry.size).toBe(0);
  });
});
