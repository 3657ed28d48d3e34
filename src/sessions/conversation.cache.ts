import type { ConversationMessage } from '../agents/agent.types.js';

/** A session's conversation rebuilt up to `lastSeq`. */
export interface CachedConversation {
  lastSeq: number;
  messages: ConversationMessage[];
  /** Approximate size in characters, for the cache's bound. */
  chars: number;
  /** The last message.user with no answer yet (its turn is running, or was interrupted). */
  openMessageId?: string;
}

/**
 * Conversations of recently active sessions, so that a turn reads only the events after the
 * last one it saw instead of the whole log (which made every turn cost as much as the session is
 * long). Correct across instances because the log is append-only: another instance's events
 * are simply the ones after `lastSeq`. Bounded by total size; least recently used goes first.
 * `take` removes an entry while a turn extends it, so no two readers share one.
 */
export class ConversationCache {
  private readonly entries = new Map<string, CachedConversation>();
  private chars = 0;

  constructor(private readonly maxChars = 32 * 1024 * 1024) {}

  get size(): number {
    return this.entries.size;
  }

  get totalChars(): number {
    return this.chars;
  }

  take(sessionKey: string): CachedConversation | undefined {
    const entry = this.entries.get(sessionKey);
    if (entry) this.remove(sessionKey, entry);
    return entry;
  }

  put(sessionKey: string, entry: CachedConversation): void {
    const previous = this.entries.get(sessionKey);
    if (previous) this.remove(sessionKey, previous);
    // One conversation larger than the whole cache is rebuilt each turn rather than evict all.
    if (entry.chars > this.maxChars) return;
    while (this.chars + entry.chars > this.maxChars) {
      const oldest = this.entries.entries().next();
      if (oldest.done) break;
      this.remove(oldest.value[0], oldest.value[1]);
    }
    this.entries.set(sessionKey, entry);
    this.chars += entry.chars;
  }

  delete(sessionKey: string): void {
    const entry = this.entries.get(sessionKey);
    if (entry) this.remove(sessionKey, entry);
  }

  private remove(sessionKey: string, entry: CachedConversation): void {
    this.entries.delete(sessionKey);
    this.chars -= entry.chars;
  }
}

/** Roughly what a message weighs in memory, in characters. */
export function messageChars(message: ConversationMessage): number {
  let chars = 64 + message.content.length;
  if (message.role === 'assistant' && message.toolCalls) {
    chars += JSON.stringify(message.toolCalls).length;
  }
  if (message.role === 'tool' && message.result) chars += JSON.stringify(message.result).length;
  return chars;
}
