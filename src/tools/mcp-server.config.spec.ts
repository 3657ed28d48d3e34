import { describe, expect, it } from 'vitest';
import type { ConfigValidationError } from '../core/config/config-validation.error.js';
import { parseMcpServerConfigs } from './mcp-server.config.js';

function problemsOf(raw: Record<string, Record<string, unknown>>): string[] {
  try {
    parseMcpServerConfigs(raw);
    return [];
  } catch (error) {
    return (error as ConfigValidationError).problems;
  }
}

describe('parseMcpServerConfigs', () => {
  it('accepts a stdio server and an HTTP server', () => {
    expect(
      parseMcpServerConfigs({
        files: { command: 'npx', args: ['-y', 'server'], env: { ROOT: '/tmp' } },
        search: { url: 'https://mcp.example.com/mcp', headers: { authorization: 'Bearer x' } },
      }).map(({ name }) => name),
    ).toEqual(['files', 'search']);
  });

  it('names the key of every problem, without echoing secrets', () => {
    const problems = problemsOf({
      'bad name': { command: 'x' },
      both: { command: 'x', url: 'http://y' },
      neither: { args: ['x'] },
      header: { url: 'http://y', headers: { authorization: 42 } },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^mcpServers\.bad name: a server name/),
        expect.stringMatching(/^mcpServers\.both: give either command/),
        expect.stringMatching(/^mcpServers\.neither\.command: /),
        'mcpServers.header.headers.authorization: must be a string',
      ]),
    );
    expect(problems.join('\n')).not.toContain('42');
  });

  it('refuses prototype names as server names and as keys, naming each, without a crash', () => {
    const raw = JSON.parse(`{
      "__proto__": { "command": "x" },
      "constructor": { "command": "x" },
      "env": { "command": "x", "env": { "constructor": "1", "toString": "2" } },
      "headers": { "url": "https://y", "headers": { "__proto__": "1" } },
      "entry": { "command": "x", "hasOwnProperty": 1 }
    }`) as Record<string, Record<string, unknown>>;

    const problems = problemsOf(raw);

    expect(problems.map((problem) => problem.split(': ')[0]).sort()).toEqual([
      'mcpServers.__proto__',
      'mcpServers.constructor',
      'mcpServers.entry.hasOwnProperty',
      'mcpServers.env.env.constructor',
      'mcpServers.env.env.toString',
      'mcpServers.headers.headers.__proto__',
    ]);
    expect(({} as Record<string, unknown>).command).toBeUndefined();
  });
});
