import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageEngines } from './support/databases.js';
import { startGateway, WsTestClient, type TestGateway, rpcOver } from './support/gateway.js';

const engines = await storageEngines('sessions e2e');

const MAX_CONTENT = 20_000;
const longText = (words: number) => Array.from({ length: words }, (_, i) => `word${i}`).join(' ');

describe.each(engines)('sessions on $name', ({ url, skip }) => {
  describe.skipIf(skip)('', () => {
    let gateway: TestGateway;

    const { rpc, ok } = rpcOver(() => gateway);
    const newSession = async () => (await ok('session.create', {})).sessionKey as string;
    const history = async (sessionKey: string, afterSeq = 0) =>
      (await ok('session.history', { sessionKey, afterSeq, limit: 1000 })) as any[];

    beforeAll(async () => {
      gateway = await startGateway({
        database: { url: await url() },
        sessions: { queueSize: 60, maxContentLength: MAX_CONTENT },
      });
    });
    afterAll(async () => gateway?.close());

    describe('over HTTP', () => {
      it('creates a session, answers a message with the echo agent and pages the history', async () => {
        const created = await ok('session.create', { metadata: { title: 't' } });
        expect(created).toMatchObject({ agentId: 'echo' });
        expect(created.sessionKey).toMatch(/^ses_/);
        expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);

        const reply = await ok('session.message', {
          sessionKey: created.sessionKey,
          content: 'hello there world',
        });
        expect(reply).toMatchObject({
          sessionKey: created.sessionKey,
          content: 'hello there world',
          toolCalls: [],
          finishReason: 'stop',
          seq: 3,
        });

        const events = await history(created.sessionKey);
        expect(events.map((e) => [e.seq, e.type])).toEqual([
          [1, 'session.created'],
          [2, 'message.user'],
          [3, 'message.agent'],
        ]);
        expect(events[0].data).toEqual({ agentId: 'echo', metadata: { title: 't' } });
        expect(events[1].data).toEqual({
          messageId: reply.messageId,
          content: 'hello there world',
        });
        expect(events[2].data).toMatchObject({ messageId: reply.messageId, finishReason: 'stop' });
        expect(
          await ok('session.history', { sessionKey: created.sessionKey, afterSeq: 1, limit: 1 }),
        ).toEqual([events[1]]);
      });

      it('runs agent.list, agent.status, tools.list and tools.execute with a sessionKey', async () => {
        const sessionKey = await newSession();
        expect((await ok('agent.list')).map((a: any) => a.id)).toContain('echo');
        expect(await ok('agent.status', { agentId: 'echo' })).toMatchObject({ agentId: 'echo' });
        expect((await ok('tools.list')).map((t: any) => t.name)).toEqual(
          expect.arrayContaining(['echo', 'clock.now']),
        );
        const result = await ok('tools.execute', {
          name: 'echo',
          arguments: { text: 'ping' },
          sessionKey,
        });
        expect(result).toMatchObject({ isError: false, content: [{ type: 'text', text: 'ping' }] });
        const events = await history(sessionKey);
        expect(events.map((e) => e.type)).toEqual(['session.created', 'tool.call', 'tool.result']);
        expect(events[1].data).toMatchObject({ name: 'echo', arguments: { text: 'ping' } });
        expect(events[2].data.toolCallId).toBe(events[1].data.toolCallId);

        const other = await rpc('tools.execute', {
          name: 'echo',
          arguments: { text: 'x' },
          sessionKey: 'ses_missing',
        });
        expect(other.error?.code).toBe(-32004);
      });

      it('ends a session: later messages get -32009, ending twice is harmless', async () => {
        const sessionKey = await newSession();
        expect(await ok('session.end', { sessionKey, reason: 'done' })).toEqual({ ok: true });
        expect(await ok('session.end', { sessionKey })).toEqual({ ok: true });
        const late = await rpc('session.message', { sessionKey, content: 'late' });
        expect(late.error).toMatchObject({ code: -32009, data: { reason: 'ended' } });
        const tool = await rpc('tools.execute', {
          name: 'echo',
          arguments: { text: 'x' },
          sessionKey,
        });
        expect(tool.error?.code).toBe(-32009);
        expect((await history(sessionKey)).map((e) => e.type)).toEqual([
          'session.created',
          'session.ended',
        ]);
      });

      it('returns the stored answer for a repeated idempotency key and refuses other content', async () => {
        const sessionKey = await newSession();
        const first = await ok('session.message', {
          sessionKey,
          content: 'once',
          idempotencyKey: 'k1',
        });
        const again = await ok('session.message', {
          sessionKey,
          content: 'once',
          idempotencyKey: 'k1',
        });
        expect(again).toEqual(first);
        const clash = await rpc('session.message', {
          sessionKey,
          content: 'other',
          idempotencyKey: 'k1',
        });
        expect(clash.error).toMatchObject({
          code: -32009,
          data: { reason: 'idempotency-key-reused' },
        });
        // Concurrent duplicates run one turn.
        const [a, b] = await Promise.all([
          ok('session.message', { sessionKey, content: 'twice', idempotencyKey: 'k2' }),
          ok('session.message', { sessionKey, content: 'twice', idempotencyKey: 'k2' }),
        ]);
        expect(a).toEqual(b);
        expect((await history(sessionKey)).map((e) => e.type)).toEqual([
          'session.created',
          'message.user',
          'message.agent',
          'message.user',
          'message.agent',
        ]);
      });

      it('gives 50 parallel messages a contiguous log with every message and reply once', async () => {
        const sessionKey = await newSession();
        const contents = Array.from({ length: 50 }, (_, i) => `message ${i}`);
        const replies = await Promise.all(
          contents.map((content) => ok('session.message', { sessionKey, content })),
        );
        expect(replies.map((r) => r.content)).toEqual(contents);
        const events = await history(sessionKey);
        expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
        const turns = events.slice(1);
        for (let i = 0; i < turns.length; i += 2) {
          // One turn at a time: each message is followed by its own answer.
          expect(turns[i].type).toBe('message.user');
          expect(turns[i + 1]).toMatchObject({
            type: 'message.agent',
            data: { messageId: turns[i].data.messageId, content: turns[i].data.content },
          });
        }
        expect(
          turns
            .filter((e) => e.type === 'message.user')
            .map((e) => e.data.content)
            .sort(),
        ).toEqual([...contents].sort());
      });

      it('lists sessions for the dashboard', async () => {
        const sessionKey = await newSession();
        const listed = await ok('sessions.list', { limit: 5 });
        expect(listed[0]).toMatchObject({
          sessionKey,
          ownerSubject: 'test-user',
          status: 'active',
        });
        expect(listed.length).toBeLessThanOrEqual(5);
      });
    });

    describe('bad input writes nothing', () => {
      const cases: Array<[string, string, (key: string) => unknown, number]> = [
        ['session.create', 'an extra param', () => ({ nope: 1 }), -32602],
        ['session.create', 'a wrong-typed agentId', () => ({ agentId: 3 }), -32602],
        ['session.create', 'an unknown agent', () => ({ agentId: 'nobody' }), -32004],
        [
          'session.create',
          'oversize metadata',
          () => ({ metadata: { x: 'y'.repeat(20_000) } }),
          -32602,
        ],
        ['session.message', 'a missing content', (key) => ({ sessionKey: key }), -32602],
        [
          'session.message',
          'an empty content',
          (key) => ({ sessionKey: key, content: '' }),
          -32602,
        ],
        [
          'session.message',
          'a numeric content',
          (key) => ({ sessionKey: key, content: 5 }),
          -32602,
        ],
        [
          'session.message',
          'an extra param',
          (key) => ({ sessionKey: key, content: 'a', x: 1 }),
          -32602,
        ],
        [
          'session.message',
          'an oversize content',
          (key) => ({ sessionKey: key, content: 'x'.repeat(MAX_CONTENT + 1) }),
          -32602,
        ],
        [
          'session.message',
          'a too long idempotencyKey',
          (key) => ({ sessionKey: key, content: 'a', idempotencyKey: 'k'.repeat(201) }),
          -32602,
        ],
        [
          'session.message',
          'an unknown session',
          () => ({ sessionKey: 'ses_unknown', content: 'a' }),
          -32004,
        ],
        ['session.history', 'a missing sessionKey', () => ({}), -32602],
        [
          'session.history',
          'a negative afterSeq',
          (key) => ({ sessionKey: key, afterSeq: -1 }),
          -32602,
        ],
        [
          'session.history',
          'a limit over 1000',
          (key) => ({ sessionKey: key, limit: 1001 }),
          -32602,
        ],
        ['session.history', 'a string limit', (key) => ({ sessionKey: key, limit: '10' }), -32602],
        ['session.history', 'an unknown session', () => ({ sessionKey: 'ses_unknown' }), -32004],
        ['session.end', 'a missing sessionKey', () => ({ reason: 'x' }), -32602],
        ['session.end', 'an extra param', (key) => ({ sessionKey: key, force: true }), -32602],
        ['session.end', 'an unknown session', () => ({ sessionKey: 'ses_unknown' }), -32004],
        ['sessions.list', 'a zero limit', () => ({ limit: 0 }), -32602],
        ['agent.status', 'an unknown agent', () => ({ agentId: 'nobody' }), -32004],
        ['tools.list', 'an extra param', () => ({ x: 1 }), -32602],
        [
          'tools.execute',
          'bad tool arguments',
          (key) => ({ name: 'echo', arguments: { text: 1 }, sessionKey: key }),
          -32602,
        ],
        ['tools.execute', 'an unknown tool', (key) => ({ name: 'nope', sessionKey: key }), -32004],
      ];

      it.each(cases)('%s with %s', async (method, _what, params, code) => {
        const sessionKey = await newSession();
        const before = await ok('sessions.list', { limit: 1000 });
        const reply = await rpc(method, params(sessionKey));
        expect(reply.error?.code).toBe(code);
        expect(await history(sessionKey)).toHaveLength(1);
        expect(await ok('sessions.list', { limit: 1000 })).toHaveLength(before.length + 0);
      });
    });

    describe('over WebSocket', () => {
      it('runs the methods and streams deltas and events in order', async () => {
        const client = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
        try {
          const created = await client.call('session.create', {});
          const sessionKey = created.result.sessionKey as string;
          const content = longText(20);
          const reply = await client.call('session.message', { sessionKey, content });
          expect(reply.result).toMatchObject({ content, finishReason: 'stop' });

          const notes = client.frames.filter((f) => f.method);
          const events = notes.filter((f) => f.method === 'session.event');
          expect(events.map((e) => [e.params.seq, e.params.type])).toEqual([
            [1, 'session.created'],
            [2, 'message.user'],
            [3, 'message.agent'],
          ]);
          const deltas = notes.filter((f) => f.method === 'session.delta');
          expect(deltas.map((d) => d.params.index)).toEqual(deltas.map((_, i) => i));
          expect(deltas.map((d) => d.params.delta).join('')).toBe(content);
          expect(deltas.every((d) => d.params.messageId === reply.result.messageId)).toBe(true);
          // Deltas come between the user's message and the answer.
          const order = notes.map((f) => (f.method === 'session.delta' ? 'delta' : f.params.type));
          expect(order.indexOf('message.user')).toBeLessThan(order.indexOf('delta'));
          expect(order.lastIndexOf('delta')).toBeLessThan(order.indexOf('message.agent'));

          const tool = await client.call('tools.execute', {
            name: 'echo',
            arguments: { text: 'via ws' },
            sessionKey,
          });
          expect(tool.result.isError).toBe(false);
          await client.next((f) => f.method === 'session.event' && f.params.type === 'tool.result');
          expect((await client.call('agent.list', {})).result.length).toBeGreaterThan(0);
          expect((await client.call('agent.status', { agentId: 'echo' })).result.agentId).toBe(
            'echo',
          );
          expect((await client.call('tools.list', {})).result.length).toBeGreaterThan(1);
          const page = await client.call('session.history', { sessionKey });
          expect(page.result.map((e: any) => e.type)).toEqual([
            'session.created',
            'message.user',
            'message.agent',
            'tool.call',
            'tool.result',
          ]);
          expect((await client.call('session.end', { sessionKey })).result).toEqual({ ok: true });
          await client.next(
            (f) => f.method === 'session.event' && f.params.type === 'session.ended',
          );
          const late = await client.call('session.message', { sessionKey, content: 'x' });
          expect(late.error.code).toBe(-32009);
        } finally {
          client.close();
        }
      });

      it('resumes after a disconnect mid-answer with every event exactly once', async () => {
        const first = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
        const { sessionKey } = (await first.call('session.create', {})).result;
        const seen = new Map<number, any>();
        const record = (frame: any) => {
          if (frame.method !== 'session.event') return;
          expect(seen.has(frame.params.seq)).toBe(false);
          seen.set(frame.params.seq, frame.params);
        };
        const content = longText(1500);
        first.send({
          jsonrpc: '2.0',
          id: 'long',
          method: 'session.message',
          params: { sessionKey, content },
        });
        // Disconnect after some deltas of the streamed answer.
        for (let i = 0; i < 20; i++) await first.next((f) => f.method === 'session.delta');
        first.frames.forEach(record);
        first.close();
        await first.closed;
        const lastSeen = Math.max(...seen.keys());
        expect(lastSeen).toBe(2); // the answer was still streaming

        const second = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
        try {
          const page = await second.call('session.history', { sessionKey, afterSeq: lastSeen });
          for (const event of page.result) record({ method: 'session.event', params: event });
          // A probe turn queues behind the long one: once its answer is seen, nothing is pending.
          const probe = await second.call('session.message', { sessionKey, content: 'probe' }, 'p');
          record(
            await second.next(
              (f) => f.method === 'session.event' && f.params.seq === probe.result.seq,
              20_000,
            ),
          );
          second.frames.forEach(record);
          const stored = await history(sessionKey);
          expect([...seen.keys()].sort((a, b) => a - b)).toEqual(stored.map((e) => e.seq));
          expect(stored[2]).toMatchObject({ type: 'message.agent', data: { content } });
        } finally {
          second.close();
        }
      });

      it('does not lose or double events when history is read while a turn streams', async () => {
        const writer = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
        const reader = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
        try {
          const { sessionKey } = (await writer.call('session.create', {})).result;
          const turns = Array.from({ length: 5 }, (_, i) =>
            writer.call('session.message', { sessionKey, content: longText(30 + i) }, `m${i}`),
          );
          await writer.next((f) => f.method === 'session.delta');
          const page = await reader.call('session.history', { sessionKey, afterSeq: 0 });
          await Promise.all(turns);
          const probe = await writer.call('session.message', { sessionKey, content: 'probe' });
          const last = await reader.next(
            (f) => f.method === 'session.event' && f.params.seq === probe.result.seq,
            10_000,
          );
          const live = [...reader.frames, last]
            .filter((f) => f.method === 'session.event')
            .map((f) => f.params.seq);
          const seqs = [...page.result.map((e: any) => e.seq), ...live];
          expect(seqs).toEqual(Array.from({ length: probe.result.seq }, (_, i) => i + 1));
        } finally {
          writer.close();
          reader.close();
        }
      });
    });
  });
});
