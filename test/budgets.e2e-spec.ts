import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from './support/auth-tokens.js';
import {
  FakeOpenAiServer,
  streamChunks,
  textChunks,
  toolCallChunks,
} from './support/openai-compatible-server.js';
import { ALL_SCOPES, postRpc, rpcOver, startGateway, type TestGateway } from './support/gateway.js';
import { DataSource } from 'typeorm';
import { UsageClock } from '../src/usage/usage-clock.js';

// The fake provider's usage: a text answer of one piece is 11 + 1 = 12 tokens, a tool call 10.
const answer =
  (text = 'ok') =>
  (_request: unknown, res: Parameters<typeof streamChunks>[0]) =>
    streamChunks(res, textChunks(text));
const callEcho = (id: string) => (_request: unknown, res: Parameters<typeof streamChunks>[0]) =>
  streamChunks(res, toolCallChunks(id, 'echo', { text: id }));

async function statusOf(gateway: TestGateway): Promise<any> {
  return (await fetch(`${gateway.baseUrl}/status`, { headers: gateway.auth })).json();
}

function llm(id: string, provider: FakeOpenAiServer, extra: Record<string, unknown> = {}) {
  return provider.agent({ id, tools: ['echo'], ...extra });
}

describe('session budgets', () => {
  let provider: FakeOpenAiServer;
  let gateway: TestGateway;
  const { rpc, ok } = rpcOver(() => gateway);
  const newSession = async (agentId: string) =>
    (await ok('session.create', { agentId })).sessionKey as string;
  const say = (sessionKey: string, content = 'hi') =>
    rpc('session.message', { sessionKey, content });
  const types = async (sessionKey: string) =>
    ((await ok('session.history', { sessionKey })) as Array<{ type: string }>).map((e) => e.type);

  beforeAll(async () => {
    provider = await FakeOpenAiServer.start();
    provider.fallback = answer();
    gateway = await startGateway({
      agents: [
        llm('at-limit', provider, { budgets: { session: { tokens: 24 } } }),
        llm('below-limit', provider, { budgets: { session: { tokens: 25 } } }),
        llm('tools', provider, { maxSteps: 5, budgets: { session: { tokens: 15 } } }),
        llm('healed', provider, { budgets: { session: { tokens: 24 } } }),
        llm('owned', provider),
      ],
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await provider?.close();
  });

  it('refuses a message once used == limit, before storing or running anything', async () => {
    const sessionKey = await newSession('at-limit');
    expect((await say(sessionKey)).result).toMatchObject({ finishReason: 'stop' });
    expect((await say(sessionKey)).result).toMatchObject({ finishReason: 'stop' });
    const before = await types(sessionKey);
    const calls = provider.requests.length;

    const refused = await say(sessionKey);
    expect(refused.error).toEqual({
      code: -32012,
      message: expect.stringContaining('session token budget'),
      data: { budget: 'session', used: 24, limit: 24 },
    });
    expect(await types(sessionKey)).toEqual(before);
    expect(provider.requests.length).toBe(calls);
  });

  it('still runs a message when used == limit - 1', async () => {
    const sessionKey = await newSession('below-limit');
    await say(sessionKey);
    await say(sessionKey);
    expect((await say(sessionKey)).result).toMatchObject({ finishReason: 'stop' });
    expect((await say(sessionKey)).error).toMatchObject({
      code: -32012,
      data: { budget: 'session', used: 36, limit: 25 },
    });
  });

  it('stops a turn that crosses its budget before the next model call, and records why', async () => {
    const sessionKey = await newSession('tools');
    const calls = provider.requests.length;
    // Without a budget the model would go on calling tools until maxSteps (5).
    let n = 0;
    provider.fallback = (request, res) => callEcho(`c${++n}`)(request, res);
    const reply = await say(sessionKey, 'use tools').finally(() => {
      provider.fallback = answer();
    });
    expect(reply.result).toMatchObject({
      finishReason: 'budget_exceeded',
      usage: { inputTokens: 14, outputTokens: 6, totalTokens: 20 },
      toolCalls: [{ toolCallId: 'c1' }, { toolCallId: 'c2' }],
    });
    expect(provider.requests.length - calls).toBe(2);
    const events = (await ok('session.history', { sessionKey })) as Array<any>;
    expect(events.map((e) => e.type)).toEqual([
      'session.created',
      'message.user',
      'tool.call',
      'tool.result',
      'tool.call',
      'tool.result',
      'message.agent',
    ]);
    expect(events.at(-1).data.finishReason).toBe('budget_exceeded');

    expect((await say(sessionKey)).error).toMatchObject({
      code: -32012,
      data: { budget: 'session', used: 20, limit: 15 },
    });
  });

  it('counts a turn whose usage row was lost (the process died after its answer) at the next turn', async () => {
    const sessionKey = await newSession('healed');
    await say(sessionKey);
    // What a crash between the answer's commit and its usage row leaves: the log only.
    const db = gateway.app.get(DataSource);
    await db.query(`DELETE FROM "token_usage" WHERE "session_key" = '${sessionKey}'`);
    await db.query(`DELETE FROM "token_usage_totals" WHERE "agent_id" = 'healed'`);
    expect((await ok('agent.status', { agentId: 'healed' })).usage.totalTokens).toBe(0);

    expect((await say(sessionKey)).result).toMatchObject({ finishReason: 'stop' });
    expect((await ok('agent.status', { agentId: 'healed' })).usage.totalTokens).toBe(24);
    expect((await say(sessionKey)).error).toMatchObject({
      code: -32012,
      data: { budget: 'session', used: 24, limit: 24 },
    });
  });

  it("charges the session's owner, not an admin who messages the session", async () => {
    const sessionKey = await newSession('owned');
    const root = await signToken({ sub: 'root', scope: ALL_SCOPES });
    const reply = await postRpc(
      gateway.baseUrl,
      { jsonrpc: '2.0', id: 1, method: 'session.message', params: { sessionKey, content: 'hi' } },
      { headers: { authorization: `Bearer ${root}` } },
    );
    expect(reply.body.result.finishReason).toBe('stop');
    const summary = await ok('usage.summary', {});
    expect(summary.subjects.map((s: any) => s.subject)).toEqual(['test-user']);
  });

  it('publishes -32012 and budget_exceeded in rpc.discover', async () => {
    const discover = await ok('rpc.discover', {});
    const method = discover.methods.find((m: any) => m.name === 'session.message');
    expect(method.errors.map((e: any) => e.code)).toContain(-32012);
    expect(JSON.stringify(method.result.schema)).toContain('budget_exceeded');
  });
});

describe('subject budgets with windows, agent overrides, the /v1 front and usage reports', () => {
  let provider: FakeOpenAiServer;
  let gateway: TestGateway;
  let now = Date.parse('2026-01-01T00:30:00.000Z');
  const { rpc, ok } = rpcOver(() => gateway);
  const newSession = async (agentId: string) =>
    (await ok('session.create', { agentId })).sessionKey as string;
  const say = (sessionKey: string) => rpc('session.message', { sessionKey, content: 'hi' });

  beforeAll(async () => {
    provider = await FakeOpenAiServer.start();
    provider.fallback = answer();
    gateway = await startGateway({
      budgets: { subject: { tokens: 20, window: '1h' } },
      usage: { topSubjects: 3 },
      agents: [
        llm('llm', provider),
        llm('own', provider, { budgets: { subject: { tokens: 100 } } }),
      ],
    });
    // The clock budgets are measured in, moved by the test instead of waiting an hour.
    gateway.app.get(UsageClock, { strict: false }).now = () => now;
  });

  afterAll(async () => {
    await gateway?.close();
    await provider?.close();
  });

  it('refuses a spent subject budget until its window resets, except on an agent with its own', async () => {
    const first = await newSession('llm');
    await say(first);
    const second = await newSession('llm');
    await say(second);
    // Another session of the same subject: the subject's budget is spent (24 >= 20).
    const refused = await say(await newSession('llm'));
    expect(refused.error).toEqual({
      code: -32012,
      message: expect.any(String),
      data: { budget: 'subject', used: 24, limit: 20, resetAt: '2026-01-01T01:00:00.000Z' },
    });

    // The agent with its own subject budget counts only its own turns.
    const own = await newSession('own');
    expect((await say(own)).result).toMatchObject({ finishReason: 'stop' });

    // The /v1 front refuses the same way OpenAI does for a spent quota, streaming or not.
    for (const stream of [false, true]) {
      const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...gateway.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'llm', stream, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(response.status).toBe(429);
      expect(response.headers.get('x-should-retry')).toBe('false');
      // The window resets at 01:00; the real clock decides how far away that looks.
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await response.json()) as any).error).toMatchObject({
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      });
    }

    // At the next window the budget is whole again.
    now = Date.parse('2026-01-01T01:00:00.000Z');
    expect((await say(first)).result).toMatchObject({ finishReason: 'stop' });
  });

  it('reports usage in agent.status, /status and usage.summary, exactly', async () => {
    const status = await ok('agent.status', { agentId: 'llm' });
    expect(status.usage).toEqual({ inputTokens: 33, outputTokens: 3, totalTokens: 36 });
    expect((await ok('agent.status', { agentId: 'own' })).usage).toEqual({
      inputTokens: 11,
      outputTokens: 1,
      totalTokens: 12,
    });

    const report = await statusOf(gateway);
    expect(report.usage).toEqual({
      totals: { inputTokens: 44, outputTokens: 4, totalTokens: 48 },
      byAgent: {
        llm: { inputTokens: 33, outputTokens: 3, totalTokens: 36 },
        own: { inputTokens: 11, outputTokens: 1, totalTokens: 12 },
      },
      topSubjects: [{ subject: 'test-user', inputTokens: 44, outputTokens: 4, totalTokens: 48 }],
    });

    const summary = await ok('usage.summary', { since: '2026-01-01T00:00:00.000Z' });
    expect(summary.bucket).toBe(3_600_000);
    expect(summary.totals.totalTokens).toBe(48);
    const llmSeries = summary.agents.find((a: any) => a.agentId === 'llm');
    expect(llmSeries.points.map((p: any) => [p.at, p.totalTokens])).toEqual([
      ['2026-01-01T00:00:00.000Z', 24],
      ['2026-01-01T01:00:00.000Z', 12],
    ]);
    expect(summary.subjects).toMatchObject([{ subject: 'test-user', totals: { totalTokens: 48 } }]);
    expect(summary.otherSubjects.totalTokens).toBe(0);
  });

  it('keeps /metrics labels bounded however many subjects spend tokens', async () => {
    now = Date.parse('2026-01-01T05:00:00.000Z');
    for (let i = 0; i < 8; i++) {
      const token = await signToken({ sub: `user-${i}`, scope: ALL_SCOPES });
      const call = async (method: string, params: unknown) =>
        (
          await postRpc(
            gateway.baseUrl,
            { jsonrpc: '2.0', id: 1, method, params },
            { headers: { authorization: `Bearer ${token}` } },
          )
        ).body;
      const created = await call('session.create', { agentId: 'own' });
      const reply = await call('session.message', {
        sessionKey: created.result.sessionKey,
        content: 'hi',
      });
      expect(reply.result.finishReason).toBe('stop');
    }
    const text = await (
      await fetch(`${gateway.baseUrl}/metrics`, { headers: gateway.auth })
    ).text();
    const subjectLines = text
      .split('\n')
      .filter((line) => line.startsWith('openclaw_subject_tokens_total{'));
    const labels = new Set(subjectLines.map((line) => /subject="([^"]*)"/.exec(line)?.[1]));
    // usage.topSubjects = 3 labels of their own, every later subject under "other".
    expect(labels.size).toBe(4);
    expect(labels).toContain('other');
    const sum = subjectLines
      .filter((line) => line.includes('kind="input"') || line.includes('kind="output"'))
      .reduce((total, line) => total + Number(line.split(' ').at(-1)), 0);
    expect(sum).toBe(48 + 8 * 12);
    expect(text).toMatch(/openclaw_agent_tokens_total\{agent="own",kind="input"\} 99/);

    const report = await statusOf(gateway);
    expect(report.usage.topSubjects).toHaveLength(3);
    const summary = await ok('usage.summary', { since: '2026-01-01T00:00:00.000Z' });
    expect(summary.subjects).toHaveLength(3);
    const named = summary.subjects.reduce((t: number, s: any) => t + s.totals.totalTokens, 0);
    expect(named + summary.otherSubjects.totalTokens).toBe(48 + 8 * 12);
  });

  it('refuses usage.summary to a token without metrics:read or admin', async () => {
    const token = await signToken({ sub: 'bob', scope: 'sessions:read agents:read' });
    const reply = await postRpc(
      gateway.baseUrl,
      { jsonrpc: '2.0', id: 1, method: 'usage.summary', params: {} },
      { headers: { authorization: `Bearer ${token}` } },
    );
    expect(reply.body.error.code).toBe(-32003);
    expect(
      (await rpc('usage.summary', { since: '2000-01-01T00:00:00Z', bucket: 60_000 })).error,
    ).toMatchObject({ code: -32602 });
  });
});
