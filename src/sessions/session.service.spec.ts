import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sqliteUrl } from '../../test/support/databases.js';
import { AgentRegistry } from '../agents/agent.registry.js';
import type {
  Agent,
  AgentEvent,
  AgentRunInput,
  ConversationMessage,
} from '../agents/agent.types.js';
import type { Caller } from '../core/identity/caller.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { DatabaseModule } from '../core/database/database.module.js';
import { EVENT_BUS, type BusMessage, type EventBus } from '../core/events/event-bus.js';
import { ToolRegistry } from '../tools/tool.registry.js';
import {
  textContent,
  type Tool,
  type ToolInputSchema,
  type ToolOutput,
  type ToolResult,
} from '../tools/tool.types.js';
import { jsonBytes } from './event-size.js';
import { EventStore } from './event-store.js';
import { rebuildConversation } from './session-conversation.js';
import { SessionService } from './session.service.js';
import { SessionsModule } from './sessions.module.js';

const caller = (subject: string, ...scopes: string[]): Caller => ({
  subject,
  scopes: new Set(['sessions:read', 'sessions:write', ...scopes]),
});
const alice = caller('alice');
const bob = caller('bob');
const admin = caller('root', 'admin');

/** Fails on "fail", otherwise answers with how many user messages it was given. */
class CountingAgent implements Agent {
  readonly id = 'counting';
  readonly name = 'Counting';
  readonly description = 'test agent';
  readonly provider = 'test';
  // eslint-disable-next-line @typescript-eslint/require-await
  async *run(input: AgentRunInput): AsyncGenerator<AgentEvent> {
    const users = input.messages.filter((m) => m.role === 'user');
    if (users.at(-1)?.content === 'fail') {
      yield { type: 'error', message: 'provider down', retryable: true };
      return;
    }
    yield { type: 'finish', content: `${users.length} messages`, finishReason: 'stop' };
  }
}

/** Remembers the conversation of each run and answers "ok". */
class RecordingAgent implements Agent {
  readonly id = 'recording';
  readonly name = 'Recording';
  readonly description = 'test agent';
  readonly provider = 'test';
  readonly seen: ConversationMessage[][] = [];
  // eslint-disable-next-line @typescript-eslint/require-await
  async *run(input: AgentRunInput): AsyncGenerator<AgentEvent> {
    this.seen.push(structuredClone(input.messages));
    // Agents may do what they like with their copy; the next turn must not notice.
    input.messages.splice(0, input.messages.length);
    yield { type: 'finish', content: 'ok', finishReason: 'stop' };
  }
}

const MAX_EVENT_BYTES = 8192;
const MAX_PAGE_BYTES = 16_384;

/** Streams one word, then waits until it is cancelled. */
class StreamingAgent implements Agent {
  readonly id = 'streaming';
  readonly name = 'Streaming';
  readonly description = 'test agent';
  readonly provider = 'test';
  started?: Promise<void>;
  onStart?: () => void;
  async *run(_input: AgentRunInput, signal: AbortSignal): AsyncGenerator<AgentEvent> {
    yield { type: 'text-delta', delta: 'partial ' };
    this.onStart?.();
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    yield { type: 'finish', content: 'partial ', finishReason: 'cancelled' };
  }
}

/** Streams 1 KiB deltas until it is stopped. */
class FloodAgent implements Agent {
  readonly id = 'flood';
  readonly name = 'Flood';
  readonly description = 'test agent';
  readonly provider = 'test';
  aborted = false;
  async *run(_input: AgentRunInput, signal: AbortSignal): AsyncGenerator<AgentEvent> {
    let text = '';
    for (let i = 0; i < 10_000 && !signal.aborted; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      const delta = `${'w'.repeat(1023)} `;
      text += delta;
      yield { type: 'text-delta', delta };
    }
    this.aborted = signal.aborted;
    yield { type: 'finish', content: text, finishReason: signal.aborted ? 'cancelled' : 'stop' };
  }
}

/** Returns `size` bytes of text from small arguments. */
class BlobTool implements Tool {
  readonly name = 'blob';
  readonly description = 'test tool';
  readonly source = 'test';
  readonly inputSchema: ToolInputSchema = {
    type: 'object',
    properties: { size: { type: 'integer' } },
  };
  execute(args: Record<string, unknown>): Promise<ToolOutput> {
    return Promise.resolve({ content: [textContent('b'.repeat(Number(args.size)))] });
  }
}

/** Calls `blob` for 20 000 bytes as an LLM agent would, then answers. */
class BlobCallingAgent implements Agent {
  readonly id = 'blob-caller';
  readonly name = 'Blob caller';
  readonly description = 'test agent';
  readonly provider = 'test';
  async *run(input: AgentRunInput, signal: AbortSignal): AsyncGenerator<AgentEvent> {
    const args = { size: 20_000 };
    yield { type: 'tool-call', toolCallId: 'c1', name: 'blob', arguments: args };
    let result: ToolResult;
    try {
      result = await input.executeTool('blob', args, signal);
    } catch (error) {
      const text = (error as Error).message;
      result = { content: [{ type: 'text', text }], isError: true, durationMs: 0 };
    }
    yield { type: 'tool-result', toolCallId: 'c1', name: 'blob', result };
    yield { type: 'finish', content: 'done', finishReason: 'stop' };
  }
}

describe('SessionService on SQLite', () => {
  let moduleRef: TestingModule;
  let service: SessionService;
  const published: Array<{ topic: string; message: BusMessage }> = [];
  const recording = new RecordingAgent();
  const streaming = new StreamingAgent();
  const flood = new FloodAgent();

  beforeAll(async () => {
    const config = Object.assign(new GatewayConfig(), {});
    config.sessions.maxContentLength = 10;
    config.sessions.maxEventBytes = MAX_EVENT_BYTES;
    config.sessions.maxPageBytes = MAX_PAGE_BYTES;
    moduleRef = await Test.createTestingModule({
      imports: [
        {
          module: class TestConfigModule {},
          global: true,
          providers: [{ provide: GatewayConfig, useValue: config }],
          exports: [GatewayConfig],
        },
        DatabaseModule.forRoot({ url: sqliteUrl() }),
        SessionsModule,
      ],
    }).compile();
    await moduleRef.init();
    moduleRef.get(AgentRegistry).register(new CountingAgent());
    moduleRef.get(AgentRegistry).register(recording);
    moduleRef.get(AgentRegistry).register(streaming);
    moduleRef.get(AgentRegistry).register(flood);
    moduleRef.get(AgentRegistry).register(new BlobCallingAgent());
    moduleRef.get(ToolRegistry).register(new BlobTool());
    moduleRef
      .get<EventBus>(EVENT_BUS)
      .subscribe('*', (message, topic) => published.push({ topic, message }));
    service = moduleRef.get(SessionService);
  });
  afterAll(async () => moduleRef?.close());

  it('hides a session from other callers, but not from an admin', async () => {
    const { sessionKey } = await service.create(alice, {});
    await expect(service.history(bob, { sessionKey })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(service.message(bob, { sessionKey, content: 'hi' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(service.end(bob, { sessionKey })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await service.history(admin, { sessionKey })).events).toHaveLength(1);
    expect((await service.list(bob, {})).map((s) => s.sessionKey)).not.toContain(sessionKey);
    expect((await service.list(admin, {})).map((s) => s.sessionKey)).toContain(sessionKey);
  });

  it('rebuilds the conversation from the log, and survives an agent failure', async () => {
    const { sessionKey } = await service.create(alice, { agentId: 'counting' });
    expect((await service.message(alice, { sessionKey, content: 'one' })).content).toBe(
      '1 messages',
    );
    await expect(service.message(alice, { sessionKey, content: 'fail' })).rejects.toMatchObject({
      code: 'AGENT_FAILED',
      data: { retryable: true },
    });
    expect((await service.message(alice, { sessionKey, content: 'three' })).content).toBe(
      '3 messages',
    );
    const types = (await service.history(alice, { sessionKey })).events.map((e) => e.type);
    expect(types).toEqual([
      'session.created',
      'message.user',
      'message.agent',
      'message.user',
      'agent.error',
      'message.user',
      'message.agent',
    ]);
  });

  it('gives each turn the whole conversation, including events another instance appended', async () => {
    const { sessionKey } = await service.create(alice, { agentId: 'recording' });
    await service.message(alice, { sessionKey, content: 'one' });
    await service.message(alice, { sessionKey, content: 'two' });
    // What another gateway instance sharing the database would have written meanwhile.
    await moduleRef.get(EventStore).append(sessionKey, [
      { type: 'message.user', data: { messageId: 'elsewhere', content: 'three' } },
      { type: 'message.agent', data: { messageId: 'elsewhere', content: 'done there' } },
    ]);
    await service.message(alice, { sessionKey, content: 'four' });

    const last = recording.seen.length - 1;
    const log = (await service.history(alice, { sessionKey, limit: 1000 })).events.map((event) => ({
      ...event,
      sessionKey,
      idempotencyKey: null,
    }));
    // The turn of "four" saw the log up to and including its own message.
    const upToFour = log.slice(0, log.findIndex((e) => e.data.content === 'four') + 1);
    expect(recording.seen[last]).toEqual(rebuildConversation(upToFour));
    expect(recording.seen[last].filter((m) => m.role === 'user').map((m) => m.content)).toEqual([
      'one',
      'two',
      'three',
      'four',
    ]);
  });

  it('refuses a message to a session another instance ended after this one last saw it', async () => {
    const { sessionKey } = await service.create(alice, { agentId: 'counting' });
    await service.message(alice, { sessionKey, content: 'one' });
    await moduleRef.get(EventStore).append(sessionKey, [{ type: 'session.ended', data: {} }]);
    await expect(service.message(alice, { sessionKey, content: 'two' })).rejects.toMatchObject({
      code: 'CONFLICT',
      data: { reason: 'ended' },
    });
    const types = (await service.history(alice, { sessionKey })).events.map((e) => e.type);
    expect(types.at(-1)).toBe('session.ended');
    expect(types.filter((t) => t === 'message.user')).toHaveLength(1);
    // Ending it again here is harmless.
    await expect(service.end(alice, { sessionKey })).resolves.toEqual({ ok: true });
  });

  it('refuses content over the configured cap before writing anything', async () => {
    const { sessionKey } = await service.create(alice, {});
    await expect(
      service.message(alice, { sessionKey, content: 'x'.repeat(11) }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect((await service.history(alice, { sessionKey })).events).toHaveLength(1);
  });

  it('publishes every stored event on the session topic, in seq order', async () => {
    published.length = 0;
    const { sessionKey } = await service.create(alice, {});
    await service.message(alice, { sessionKey, content: 'a b c' });
    const mine = published.filter((p) => p.topic === `session:${sessionKey}`);
    const events = mine.filter((p) => p.message.method === 'session.event');
    expect(events.map((p) => p.message.params.seq)).toEqual([1, 2, 3]);
    const deltas = mine.filter((p) => p.message.method === 'session.delta');
    expect(deltas.map((p) => p.message.params.delta).join('')).toBe('a b c');
  });

  it('records tool runs only in an active session of the caller', async () => {
    const { sessionKey } = await service.create(alice, {});
    const call = { toolCallId: 't1', name: 'echo', arguments: { text: 'x' } };
    await expect(service.recordToolCall(bob, sessionKey, call)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const ended = await service.recordToolCall(alice, sessionKey, call);
    const ending = service.end(alice, { sessionKey });
    // The end cancels the call and waits for its result before it stores session.ended.
    await vi.waitFor(() => expect(ended.aborted).toBe(true));
    const result = { content: [], isError: true, durationMs: 1 };
    await service.recordToolResult(alice, sessionKey, { toolCallId: 't1', name: 'echo', result });
    await ending;
    const types = (await service.history(alice, { sessionKey })).events.map((e) => e.type);
    expect(types).toEqual(['session.created', 'tool.call', 'tool.result', 'session.ended']);
    await expect(service.recordToolCall(alice, sessionKey, call)).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('stores the cancelled answer of a turn before session.ended when the session ends mid-turn', async () => {
    const { sessionKey } = await service.create(alice, { agentId: 'streaming' });
    streaming.started = new Promise((resolve) => (streaming.onStart = resolve));
    const turn = service.message(alice, { sessionKey, content: 'go' });
    await streaming.started;
    await service.end(alice, { sessionKey, reason: 'bye' });
    await expect(turn).resolves.toMatchObject({ finishReason: 'cancelled', content: 'partial ' });
    const log = (await service.history(alice, { sessionKey })).events;
    expect(log.map((e) => e.type)).toEqual([
      'session.created',
      'message.user',
      'message.agent',
      'session.ended',
    ]);
    expect(log[2].data).toMatchObject({ finishReason: 'cancelled', content: 'partial ' });
  });

  it('refuses a turn that would start while the session is ending', async () => {
    const { sessionKey } = await service.create(alice, { agentId: 'streaming' });
    streaming.started = new Promise((resolve) => (streaming.onStart = resolve));
    const first = service.message(alice, { sessionKey, content: 'go' });
    await streaming.started;
    const queued = expect(
      service.message(alice, { sessionKey, content: 'queued' }),
    ).rejects.toMatchObject({ code: 'CONFLICT', data: { reason: 'ended' } });
    await service.end(alice, { sessionKey });
    await expect(first).resolves.toMatchObject({ finishReason: 'cancelled' });
    await queued;
    const types = (await service.history(alice, { sessionKey })).events.map((e) => e.type);
    expect(types.at(-1)).toBe('session.ended');
    expect(types.filter((t) => t === 'message.user')).toHaveLength(1);
  });

  it('cancels a turn when the call signal aborts (an HTTP client gone)', async () => {
    const { sessionKey } = await service.create(alice, { agentId: 'streaming' });
    streaming.started = new Promise((resolve) => (streaming.onStart = resolve));
    const gone = new AbortController();
    const turn = service.message(alice, { sessionKey, content: 'go' }, { signal: gone.signal });
    await streaming.started;
    gone.abort();
    await expect(turn).resolves.toMatchObject({ finishReason: 'cancelled' });
  });

  it("cuts an answer longer than maxEventBytes: the agent is stopped, finishReason 'length'", async () => {
    published.length = 0;
    const { sessionKey } = await service.create(alice, { agentId: 'flood' });
    const reply = await service.message(alice, { sessionKey, content: 'go' });
    expect(reply.finishReason).toBe('length');
    expect(flood.aborted).toBe(true);
    const [stored] = (await service.history(alice, { sessionKey, afterSeq: 2 })).events;
    expect(jsonBytes(stored.data)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    expect(stored.data.content).toBe(reply.content);
    expect(reply.content.length).toBeGreaterThan(MAX_EVENT_BYTES / 2);
    const deltas = published.filter(
      (p) => p.topic === `session:${sessionKey}` && p.message.method === 'session.delta',
    );
    const streamed = deltas.map((p) => String(p.message.params.delta)).join('');
    expect(Buffer.byteLength(streamed)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
  });

  it('records a tool result over maxEventBytes as a failed call, and refuses oversize client arguments', async () => {
    const { sessionKey } = await service.create(alice, { agentId: 'blob-caller' });
    const reply = await service.message(alice, { sessionKey, content: 'go' });
    expect(reply.finishReason).toBe('stop');
    const log = (await service.history(alice, { sessionKey })).events;
    const result = log.find((e) => e.type === 'tool.result')!;
    expect(result.data.result).toMatchObject({
      isError: true,
      content: [
        {
          type: 'text',
          text: expect.stringMatching(/^Tool "blob" result too large \(\d+ bytes > 8192\)$/),
        },
      ],
    });
    expect(jsonBytes(result.data)).toBeLessThan(1024);

    const call = { toolCallId: 't2', name: 'echo', arguments: { text: 'x'.repeat(10_000) } };
    await expect(service.recordToolCall(alice, sessionKey, call)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      data: { reason: 'too-large', eventType: 'tool.call', maxBytes: MAX_EVENT_BYTES },
    });
    expect((await service.history(alice, { sessionKey })).events).toHaveLength(log.length);
  });

  it('pages history by bytes as well as by count, always at least one event', async () => {
    const { sessionKey } = await service.create(alice, {});
    const big = 'y'.repeat(7000);
    for (let i = 0; i < 6; i++) {
      await moduleRef.get(EventStore).append(sessionKey, [{ type: 'note', data: { big } }]);
    }
    const first = await service.history(alice, { sessionKey, limit: 100 });
    expect(first.more).toBe(true);
    expect(first.events.length).toBeLessThan(7);
    expect(jsonBytes(first.events)).toBeLessThanOrEqual(MAX_PAGE_BYTES);
    const seqs: number[] = [];
    for (let after = 0; ;) {
      const page = await service.history(alice, { sessionKey, afterSeq: after, limit: 100 });
      if (page.events.length === 0) break;
      seqs.push(...page.events.map((e) => e.seq));
      after = page.events.at(-1)!.seq;
    }
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // An event larger than the page budget still comes, alone.
    const huge = 'z'.repeat(MAX_PAGE_BYTES * 2);
    await moduleRef.get(EventStore).append(sessionKey, [{ type: 'note', data: { huge } }]);
    const alone = await service.history(alice, { sessionKey, afterSeq: 7 });
    expect(alone.events.map((e) => e.seq)).toEqual([8]);
    expect(alone.more).toBe(false);
  });
});
