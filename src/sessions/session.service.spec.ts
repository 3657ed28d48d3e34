import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteUrl } from '../../test/support/databases.js';
import { AgentRegistry } from '../agents/agent.registry.js';
import type {
  Agent,
  AgentEvent,
  AgentRunInput,
  ConversationMessage,
} from '../agents/agent.types.js';
import type { Caller } from '../core/auth/caller.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { DatabaseModule } from '../core/database/database.module.js';
import { EVENT_BUS, type BusMessage, type EventBus } from '../core/events/event-bus.js';
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

describe('SessionService on SQLite', () => {
  let moduleRef: TestingModule;
  let service: SessionService;
  const published: Array<{ topic: string; message: BusMessage }> = [];
  const recording = new RecordingAgent();

  beforeAll(async () => {
    const config = Object.assign(new GatewayConfig(), {});
    config.sessions.maxContentLength = 10;
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
    expect(await service.history(admin, { sessionKey })).toHaveLength(1);
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
    const types = (await service.history(alice, { sessionKey })).map((e) => e.type);
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
    const log = (await service.history(alice, { sessionKey, limit: 1000 })).map((event) => ({
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
    const types = (await service.history(alice, { sessionKey })).map((e) => e.type);
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
    expect(await service.history(alice, { sessionKey })).toHaveLength(1);
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
    await service.recordToolCall(alice, sessionKey, call);
    await service.end(alice, { sessionKey });
    await expect(service.recordToolCall(alice, sessionKey, call)).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });
});
