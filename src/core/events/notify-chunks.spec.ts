import { describe, expect, it } from 'vitest';
import { NotifyChunks } from './notify-chunks.js';

describe('NotifyChunks', () => {
  it('passes an envelope that fits through untouched', () => {
    expect(new NotifyChunks().accept('{"o":"a"}')).toBe('{"o":"a"}');
  });

  it('splits a big envelope into parts under the NOTIFY limit and joins them in any order', () => {
    const chunks = new NotifyChunks();
    const envelope = JSON.stringify({ text: 'ünïcødé ✓ '.repeat(5000) });
    const parts = chunks.split(envelope);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(Buffer.byteLength(part)).toBeLessThan(8000);
    const receiver = new NotifyChunks();
    const shuffled = [...parts].reverse();
    const results = shuffled.map((part) => receiver.accept(part));
    expect(results.slice(0, -1).every((r) => r === undefined)).toBe(true);
    expect(results.at(-1)).toBe(envelope);
    expect(receiver.pendingCount).toBe(0);
  });

  it('drops parts of an envelope that never completes once they are stale', () => {
    const chunks = new NotifyChunks();
    const [first] = chunks.split('x'.repeat(20_000));
    expect(chunks.accept(first, 0)).toBeUndefined();
    expect(chunks.pendingCount).toBe(1);
    chunks.accept('{}', 60_000);
    expect(chunks.accept(chunks.split('y'.repeat(20_000))[0], 60_000)).toBeUndefined();
    expect(chunks.pendingCount).toBe(1);
  });

  it('ignores malformed and duplicate parts', () => {
    const chunks = new NotifyChunks();
    expect(chunks.accept('#not-a-part')).toBeUndefined();
    const parts = chunks.split('z'.repeat(12_000));
    expect(chunks.accept(parts[0])).toBeUndefined();
    expect(chunks.accept(parts[0])).toBeUndefined();
    expect(chunks.accept(parts[1])).toBeUndefined();
    expect(chunks.accept(parts[2])).toBe('z'.repeat(12_000));
  });
});
