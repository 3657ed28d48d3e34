import { describe, expect, it } from 'vitest';
import { GatewayErrorCode } from '../core/errors/gateway-error-code.js';
import { GatewayException } from '../core/errors/gateway.exception.js';
import {
  SessionRecordingUnavailableException,
  ToolFailedException,
  ToolInvalidArgumentsException,
  ToolNotFoundException,
} from '../tools/tool.exception.js';
import type { ToolDescriptor } from '../tools/tool.types.js';
import { mapToolCallError, toCallToolResult, toMcpTool } from './mcp-tool.mapper.js';

function descriptor(overrides: Partial<ToolDescriptor> = {}): ToolDescriptor {
  return {
    name: 'files.read',
    description: 'Reads a file.',
    inputSchema: { type: 'object', properties: { path: { type: 'string' } } },
    source: 'mcp:files',
    ...overrides,
  };
}

describe('toMcpTool', () => {
  it('carries schemas and annotations, takes the title from them and names the source in _meta', () => {
    const tool = toMcpTool(
      descriptor({
        outputSchema: { type: 'object', properties: { text: { type: 'string' } } },
        annotations: { title: 'Read a file', readOnlyHint: true },
      }),
    );
    expect(tool).toEqual({
      name: 'files.read',
      title: 'Read a file',
      description: 'Reads a file.',
      inputSchema: { type: 'object', properties: { path: { type: 'string' } } },
      outputSchema: { type: 'object', properties: { text: { type: 'string' } } },
      annotations: { title: 'Read a file', readOnlyHint: true },
      _meta: { 'openclaw/source': 'mcp:files' },
    });
  });

  it('leaves out an output schema MCP cannot express rather than breaking the whole list', () => {
    const tool = toMcpTool(descriptor({ outputSchema: { type: 'array' } }));
    expect(tool).not.toHaveProperty('outputSchema');
  });
});

describe('toCallToolResult', () => {
  it('keeps content, structuredContent and isError, and puts the duration in _meta', () => {
    expect(
      toCallToolResult({
        content: [{ type: 'text', text: '42' }],
        structuredContent: { answer: 42 },
        isError: false,
        durationMs: 1.5,
      }),
    ).toEqual({
      content: [{ type: 'text', text: '42' }],
      structuredContent: { answer: 42 },
      isError: false,
      _meta: { 'openclaw/durationMs': 1.5 },
    });
  });

  it('names a resource link after its URI when the tool gave no name (MCP requires one)', () => {
    const result = toCallToolResult({
      content: [{ type: 'resource_link', uri: 'file:///a.txt' }],
      isError: false,
      durationMs: 0,
    });
    expect(result.content[0]).toEqual({
      type: 'resource_link',
      uri: 'file:///a.txt',
      name: 'file:///a.txt',
    });
  });
});

describe('mapToolCallError', () => {
  it('answers invalid arguments with an isError result that lists each violation', () => {
    const failure = mapToolCallError(
      new ToolInvalidArgumentsException('echo', [
        { path: 'text', message: 'must be string' },
        { path: '', message: 'arguments must be an object' },
      ]),
    );
    expect(failure).toEqual({
      kind: 'tool-error',
      result: {
        isError: true,
        content: [
          {
            type: 'text',
            text: 'Invalid arguments for tool "echo": text: must be string; (arguments): arguments must be an object',
          },
        ],
      },
    });
  });

  it('answers a tool failure (throw, timeout) with its safe message as an isError result', () => {
    const failure = mapToolCallError(
      new ToolFailedException('slow', 'Tool "slow" timed out after 10 ms', 'timeout'),
    );
    expect(failure).toMatchObject({
      kind: 'tool-error',
      result: { isError: true, content: [{ text: 'Tool "slow" timed out after 10 ms' }] },
    });
  });

  it('answers an unknown tool with -32602, and another missing thing as a tool error', () => {
    expect(mapToolCallError(new ToolNotFoundException('nope'))).toEqual({
      kind: 'protocol-error',
      code: -32602,
      message: 'Tool "nope" not found',
      data: { tool: 'nope' },
    });
    expect(mapToolCallError(new SessionRecordingUnavailableException('s1')).kind).toBe(
      'tool-error',
    );
  });

  it('answers refusals with the gateway’s JSON-RPC codes', () => {
    const forbidden = new GatewayException(GatewayErrorCode.FORBIDDEN, 'Forbidden', {
      requiredScope: 'admin',
    });
    expect(mapToolCallError(forbidden)).toEqual({
      kind: 'protocol-error',
      code: -32003,
      message: 'Forbidden',
      data: { requiredScope: 'admin' },
    });
    const limited = new GatewayException(GatewayErrorCode.RATE_LIMITED, 'Slow down');
    expect(mapToolCallError(limited)).toMatchObject({ kind: 'protocol-error', code: -32005 });
    const spent = new GatewayException(GatewayErrorCode.BUDGET_EXCEEDED, 'Spent', { used: 1 });
    expect(mapToolCallError(spent)).toMatchObject({ kind: 'protocol-error', code: -32012 });
  });
});
