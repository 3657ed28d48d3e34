import { Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayErrorCode } from '../src/core/errors/gateway-error-code.js';
import { GatewayException } from '../src/core/errors/gateway.exception.js';
import { Injectable } from '@nestjs/common';
import { ToolRunRecording } from '../src/tools/tool-run.recording.js';
import { ToolsModule } from '../src/tools/tools.module.js';
import {
  type RecordedToolCall,
  type RecordedToolResult,
  type ToolRunRecorder,
} from '../src/tools/tool-run-recorder.js';
import { signToken } from './support/auth-tokens.js';
import { ALL_SCOPES, startGateway } from './support/gateway.js';

const token = signToken({ sub: 'test-user', scope: ALL_SCOPES });

describe('agents and tools over HTTP', () => {
  let app: NestFastifyApplication;
  let baseUrl: string;
  let nextId = 1;

  beforeAll(async () => {
    const gateway = await startGateway({}, { imports: [] });
    ({ app, baseUrl } = gateway);
  });

  afterAll(async () => {
    await app?.close();
  });

  async function call(method: string, params?: unknown): Promise<any> {
    const id = nextId++;
    const response = await fetch(`${baseUrl}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
    });
    const body: any = await response.json();
    expect(body.id).toBe(id);
    return body;
  }

  it('agent.list lists the built-in echo agent', async () => {
    const { result } = await call('agent.list', {});
    expect(result).toContainEqual({
      id: 'echo',
      name: 'Echo',
      description: expect.any(String),
      provider: 'builtin',
    });
  });

  it('agent.status reports a known agent', async () => {
    const { result } = await call('agent.status', { agentId: 'echo' });
    expect(result).toEqual({
      agentId: 'echo',
      state: 'idle',
      activeRuns: 0,
      totalRuns: 0,
      usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
    });
  });

  it('agent.status answers -32004 for an unknown agent', async () => {
    const { error } = await call('agent.status', { agentId: 'ghost' });
    expect(error).toEqual({
      code: -32004,
      message: 'Agent "ghost" not found',
      data: { agentId: 'ghost' },
    });
  });

  it('agent.status refuses missing and unknown params with -32602', async () => {
    expect((await call('agent.status', {})).error.code).toBe(-32602);
    expect((await call('agent.status', { agentId: 'echo', extra: 1 })).error.code).toBe(-32602);
  });

  it('tools.list lists the built-in tools in MCP shape', async () => {
    const { result } = await call('tools.list', {});
    const names = result.map((tool: { name: string }) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'clock.now']));
    expect(result.find((tool: { name: string }) => tool.name === 'echo')).toEqual({
      name: 'echo',
      description: expect.any(String),
      inputSchema: expect.objectContaining({ type: 'object', required: ['text'] }),
      annotations: expect.any(Object),
      source: 'builtin',
    });
  });

  it("tools.list with an agentId lists that agent's tools, and -32004 for an unknown agent", async () => {
    const all = (await call('tools.list', {})).result;
    expect((await call('tools.list', { agentId: 'echo' })).result).toEqual(all);
    expect((await call('tools.list', { agentId: 'ghost' })).error.code).toBe(-32004);
  });

  it('tools.execute runs echo', async () => {
    const { result } = await call('tools.execute', { name: 'echo', arguments: { text: 'hi' } });
    expect(result).toEqual({
      content: [{ type: 'text', text: 'hi' }],
      isError: false,
      durationMs: expect.any(Number),
    });
  });

  it('tools.execute runs clock.now in a time zone', async () => {
    const before = Date.now();
    const { result } = await call('tools.execute', {
      name: 'clock.now',
      arguments: { timeZone: 'Europe/Paris' },
    });
    expect(result.isError).toBe(false);
    expect(result.structuredContent).toMatchObject({ timeZone: 'Europe/Paris' });
    expect(result.structuredContent.epochMs).toBeGreaterThanOrEqual(before);
    expect(Date.parse(result.structuredContent.iso)).toBe(result.structuredContent.epochMs);
  });

  it('tools.execute answers -32602 with the violations for bad arguments', async () => {
    const { error } = await call('tools.execute', {
      name: 'echo',
      arguments: { text: 5, loud: true },
    });
    expect(error.code).toBe(-32602);
    expect(error.data.violations).toEqual(
      expect.arrayContaining([
        { path: 'text', message: 'must be string' },
        { path: 'loud', message: 'property should not exist' },
      ]),
    );
    const missing = await call('tools.execute', { name: 'echo' });
    expect(missing.error.data.violations).toEqual([
      { path: 'text', message: "must have required property 'text'" },
    ]);
    const zone = await call('tools.execute', {
      name: 'clock.now',
      arguments: { timeZone: 'Nowhere/City' },
    });
    expect(zone.error).toMatchObject({
      code: -32602,
      data: { violations: [{ path: 'timeZone', message: expect.any(String) }] },
    });
  });

  it('tools.execute answers -32004 for an unknown tool', async () => {
    const { error } = await call('tools.execute', { name: 'nope', arguments: {} });
    expect(error).toEqual({
      code: -32004,
      message: 'Tool "nope" not found',
      data: { tool: 'nope' },
    });
  });

  it('tools.execute with a sessionKey and no sessions module answers -32004', async () => {
    const { error } = await call('tools.execute', {
      name: 'echo',
      arguments: { text: 'hi' },
      sessionKey: 'sess_1',
    });
    expect(error).toMatchObject({ code: -32004, data: { sessionKey: 'sess_1' } });
  });

  it('rpc.discover documents the four methods with their scopes', async () => {
    const { result } = await call('rpc.discover', {});
    const scopes = Object.fromEntries(
      result.methods.map((m: { name: string; 'x-scope': string }) => [m.name, m['x-scope']]),
    );
    expect(scopes).toMatchObject({
      'agent.list': 'agents:read',
      'agent.status': 'agents:read',
      'tools.list': 'tools:read',
      'tools.execute': 'tools:execute',
    });
  });
});

/** Replaces the sessions module's recorder: records what tools.execute reports, in memory. */
@Injectable()
class MemoryToolRunRecorder implements ToolRunRecorder {
  readonly events: Array<{ type: string; sessionKey: string; data: unknown }> = [];

  constructor(recording: ToolRunRecording) {
    recording.use(this);
  }

  begin(_caller: unknown, sessionKey: string, call: RecordedToolCall): Promise<void> {
    if (sessionKey !== 'mine')
      return Promise.reject(new GatewayException(GatewayErrorCode.NOT_FOUND, 'Session not found'));
    this.events.push({ type: 'tool.call', sessionKey, data: call });
    return Promise.resolve();
  }
  finish(_caller: unknown, sessionKey: string, result: RecordedToolResult): Promise<void> {
    this.events.push({ type: 'tool.result', sessionKey, data: result });
    return Promise.resolve();
  }
}

@Module({
  imports: [ToolsModule],
  providers: [MemoryToolRunRecorder],
})
class MemoryRecorderModule {}

describe('tools.execute with a session recorder', () => {
  let app: NestFastifyApplication;
  let baseUrl: string;

  beforeAll(async () => {
    const gateway = await startGateway({}, { imports: [MemoryRecorderModule] });
    ({ app, baseUrl } = gateway);
  });

  afterAll(async () => {
    await app?.close();
  });

  async function call(params: unknown): Promise<any> {
    const response = await fetch(`${baseUrl}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools.execute', params }),
    });
    return response.json();
  }

  it('records tool.call then tool.result with the same toolCallId', async () => {
    const recorder = app.get(MemoryToolRunRecorder);
    const { result } = await call({ name: 'echo', arguments: { text: 'hi' }, sessionKey: 'mine' });
    expect(result.content).toEqual([{ type: 'text', text: 'hi' }]);
    expect(recorder.events).toEqual([
      {
        type: 'tool.call',
        sessionKey: 'mine',
        data: {
          toolCallId: expect.stringMatching(/^call_/),
          name: 'echo',
          arguments: { text: 'hi' },
        },
      },
      {
        type: 'tool.result',
        sessionKey: 'mine',
        data: expect.objectContaining({ name: 'echo', result }),
      },
    ]);
    const [begun, finished] = recorder.events as Array<{ data: { toolCallId: string } }>;
    expect(finished.data.toolCallId).toBe(begun.data.toolCallId);
  });

  it('records nothing for bad arguments or a session the recorder refuses', async () => {
    const recorder = app.get(MemoryToolRunRecorder);
    recorder.events.length = 0;
    expect((await call({ name: 'echo', arguments: {}, sessionKey: 'mine' })).error.code).toBe(
      -32602,
    );
    expect(
      (await call({ name: 'echo', arguments: { text: 'x' }, sessionKey: 'theirs' })).error.code,
    ).toBe(-32004);
    expect(recorder.events).toEqual([]);
  });
});
