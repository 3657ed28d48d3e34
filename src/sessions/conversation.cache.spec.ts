import { describe, expect, it } from 'vitest';
import { ConversationCache, messageChars, type CachedConversation } from './conversation.cache.js';

const entry = (lastSeq: number, chars: number): CachedConversation => ({
  lastSeq,
  messages: [{ role: 'user', content: 'x' }],
  chars,
});

describe('ConversationCache', () => {
  it('hands an entry to one taker at a time and takes it back with its new size', () => {
    const cache = new ConversationCache(1000);
    cache.put('s1', entry(3, 100));
    const taken = cache.take('s1');
    expect(taken?.lastSeq).toBe(3);
    expect(cache.take('s1')).toBeUndefined();
    expect(cache.totalChars).toBe(0);
    cache.put('s1', { ...taken!, lastSeq: 5, chars: 150 });
    expect(cache.totalChars).toBe(150);
    expect(cache.take('s1')?.lastSeq).toBe(5);
  });

  it('evicts the least recently put conversations to stay within its size', () => {
    const cache = new ConversationCache(300);
    cache.put('a', entry(1, 100));
    cache.put('b', entry(1, 100));
    cache.put('c', entry(1, 100));
    cache.put('a', cache.take('a')!); // a is now the most recent
    cache.put('d', entry(1, 150));
    expect(cache.take('b')).toBeUndefined();
    expect(cache.take('c')).toBeUndefined();
    expect(cache.size).toBe(2);
    expect(cache.totalChars).toBe(250);
  });

  it('does not keep one conversation larger than the whole cache', () => {
    const cache = new ConversationCache(300);
    cache.put('a', entry(1, 100));
    cache.put('huge', entry(1, 301));
    expect(cache.take('huge')).toBeUndefined();
    expect(cache.take('a')).toBeDefined();
  });

  it('weighs messages by their content and tool payloads', () => {
    expect(messageChars({ role: 'user', content: 'a'.repeat(1000) })).toBeGreaterThan(1000);
    const call = {
      role: 'assistant' as const,
      content: '',
      toolCalls: [{ toolCallId: 'c1', name: 'echo', arguments: { text: 'b'.repeat(500) } }],
    };
    expect(messageChars(call)).toBeGreaterThan(500);
  });
});
