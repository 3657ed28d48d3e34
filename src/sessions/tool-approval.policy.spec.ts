import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { parseAgentConfigs } from '../agents/agent-config.js';
import type { ConfigValidationError } from '../core/config/config-validation.error.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { parseMcpServerConfigs } from '../tools/mcp-server.config.js';
import type { ToolDescriptor } from '../tools/tool.types.js';
import { ToolApprovalPolicy } from './tool-approval.policy.js';

const agent = (id: string, approval?: unknown) => ({
  id,
  provider: 'openai-compatible',
  model: 'm',
  baseUrl: 'http://127.0.0.1:1/v1',
  ...(approval === undefined ? {} : { approval }),
});

const tool = (name: string, source: string, destructiveHint?: boolean): ToolDescriptor => ({
  name,
  description: name,
  inputSchema: { type: 'object' },
  source,
  ...(destructiveHint === undefined ? {} : { annotations: { destructiveHint } }),
});

function policy(agents: unknown[], mcpServers: Record<string, unknown> = {}): ToolApprovalPolicy {
  const config = new GatewayConfig();
  config.agents = agents as Record<string, unknown>[];
  config.mcpServers = mcpServers as Record<string, Record<string, unknown>>;
  return new ToolApprovalPolicy(config);
}

function problems(run: () => unknown): string[] {
  try {
    run();
    return [];
  } catch (error) {
    return (error as ConfigValidationError).problems;
  }
}

describe('ToolApprovalPolicy', () => {
  const wipe = tool('files.wipe', 'mcp:files', true);
  const read = tool('files.read', 'mcp:files', false);
  const echo = tool('echo', 'builtin');
  const drop = tool('db.drop', 'provider', true);

  it('asks for nothing by default', () => {
    const p = policy([agent('a')], { files: { command: 'x' } });
    expect([wipe, read, echo, drop].map((t) => p.requires('a', t))).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('selects by name, by destructive hint (any source) or all, per agent', () => {
    const p = policy([
      agent('named', ['echo', 'files.read']),
      agent('destructive', 'destructive'),
      agent('all', 'all'),
      agent('none', 'none'),
    ]);
    const row = (id: string) => [wipe, read, echo, drop].map((t) => p.requires(id, t));
    expect(row('named')).toEqual([false, true, true, false]);
    expect(row('destructive')).toEqual([true, false, false, true]);
    expect(row('all')).toEqual([true, true, true, true]);
    expect(row('none')).toEqual([false, false, false, false]);
  });

  it("applies an MCP server's setting to its own tools, unless the agent sets its own", () => {
    const p = policy([agent('plain'), agent('own', 'none')], {
      files: { command: 'x', approval: ['read'] },
      other: { command: 'y', approval: 'all' },
    });
    expect(p.requires('plain', read)).toBe(true);
    expect(p.requires('plain', wipe)).toBe(false);
    expect(p.requires('plain', echo)).toBe(false);
    expect(p.requires('plain', tool('other.x', 'mcp:other'))).toBe(true);
    expect(p.requires('own', read)).toBe(false);
    // An agent registered in code (not in config.agents) follows the servers' settings.
    expect(p.requires('coded', tool('other.x', 'mcp:other'))).toBe(true);
  });

  it('refuses a bad setting at boot, naming the key', () => {
    expect(problems(() => parseAgentConfigs([agent('a', 'sometimes')]))).toEqual([
      expect.stringMatching(/^agents\[0\]\.approval: .*"all", "destructive", "none" or a list/),
    ]);
    expect(problems(() => parseAgentConfigs([agent('a', ['ok', 42])]))).toEqual([
      expect.stringMatching(/^agents\[0\]\.approval: /),
    ]);
    expect(
      problems(() => parseMcpServerConfigs({ files: { command: 'x', approval: true } })),
    ).toEqual([expect.stringMatching(/^mcpServers\.files\.approval: /)]);
  });
});
