import { describe, expect, it } from 'vitest';
import { extendConversation, rebuildConversation } from './session-conversation.js';
import type { StoredEvent } from './session.types.js';

let seq = 0;
const event = (type: string, data: Record<string, unknown>): StoredEvent => ({
  sessionKey: 'ses_test',
  seq: ++seq,
  type,
  at: '2026-11-24T00:00:00.000Z',
  data,
  idempotencyKey: null,
});
const result = (text: string) => ({ content: [{ type: 'text', text }], isError: false });

describe('rebuildConversation', () => {
  it('puts a step’s text and its calls in one assistant message, before their results', () => {
    const messages = rebuildConversation([
      event('session.created', {}),
      event('message.user', { messageId: 'm1', content: 'weather in Oslo and Bergen?' }),
      event('tool.call', {
        messageId: 'm1',
        toolCallId: 'c1',
        name: 'weather',
        arguments: { city: 'Oslo' },
        text: 'Let me look both up.',
      }),
      event('tool.call', {
        messageId: 'm1',
        toolCallId: 'c2',
        name: 'weather',
        arguments: { city: 'Bergen' },
      }),
      event('tool.result', {
        messageId: 'm1',
        toolCallId: 'c1',
        name: 'weather',
        result: result('3°'),
      }),
      event('tool.result', {
        messageId: 'm1',
        toolCallId: 'c2',
        name: 'weather',
        result: result('7°'),
      }),
      // A second step: its calls are a new assistant message, never merged into the first.
      event('tool.call', { messageId: 'm1', toolCallId: 'c3', name: 'clock.now', arguments: {} }),
      event('tool.result', {
        messageId: 'm1',
        toolCallId: 'c3',
        name: 'clock.now',
        result: result('noon'),
      }),
      event('message.agent', { messageId: 'm1', content: 'Oslo 3°, Bergen 7° at noon.' }),
    ]);
    expect(messages).toMatchObject([
      { role: 'user', content: 'weather in Oslo and Bergen?' },
      {
        role: 'assistant',
        content: 'Let me look both up.',
        toolCalls: [{ toolCallId: 'c1' }, { toolCallId: 'c2' }],
      },
      { role: 'tool', toolCallId: 'c1', content: '3°' },
      { role: 'tool', toolCallId: 'c2', content: '7°' },
      { role: 'assistant', content: '', toolCalls: [{ toolCallId: 'c3' }] },
      { role: 'tool', toolCallId: 'c3', content: 'noon' },
      { role: 'assistant', content: 'Oslo 3°, Bergen 7° at noon.' },
    ]);
  });

  it('leaves out what clients ran themselves and what carries no conversation', () => {
    const messages = rebuildConversation([
      event('tool.call', { toolCallId: 't1', name: 'echo', arguments: { text: 'x' } }),
      event('tool.result', { toolCallId: 't1', name: 'echo', result: result('x') }),
      event('message.user', { messageId: 'm2', content: 'hi' }),
      event('agent.error', { messageId: 'm2', message: 'down', retryable: true }),
      event('session.ended', {}),
      event('something.new', { content: 'ignored' }),
    ]);
    expect(messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('gives the same conversation extended event by event as rebuilt at once', () => {
    const events = [
      event('message.user', { messageId: 'm3', content: 'one' }),
      event('tool.call', {
        messageId: 'm3',
        toolCallId: 'c9',
        name: 'echo',
        arguments: {},
        text: 'so',
      }),
      event('tool.call', { messageId: 'm3', toolCallId: 'c10', name: 'echo', arguments: {} }),
      event('tool.result', {
        messageId: 'm3',
        toolCallId: 'c9',
        name: 'echo',
        result: result('a'),
      }),
      event('message.agent', { messageId: 'm3', content: 'done' }),
    ];
    const stepwise = events.reduce(
      (messages, next) => extendConversation(messages, [next]),
      rebuildConversation([]),
    );
    expect(stepwise).toEqual(rebuildConversation(events));
  });
});
