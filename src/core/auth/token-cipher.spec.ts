import { describe, expect, it } from 'vitest';
import { TokenCipher } from './token-cipher.js';

describe('TokenCipher', () => {
  const cipher = new TokenCipher('a-key-of-at-least-thirty-two-bytes!!');

  it('round-trips a token bound to its row, and refuses it under another row or key', () => {
    const blob = cipher.encrypt('ocr_secret', 'row-1');
    expect(blob).not.toContain('ocr_secret');
    expect(cipher.decrypt(blob, 'row-1')).toBe('ocr_secret');
    expect(() => cipher.decrypt(blob, 'row-2')).toThrow();
    expect(() =>
      new TokenCipher('another-key-of-thirty-two-bytes!!!').decrypt(blob, 'row-1'),
    ).toThrow();
  });

  it('gives a stable keyed lookup hash that differs per key', () => {
    expect(cipher.lookupHash('t')).toBe(cipher.lookupHash('t'));
    expect(cipher.lookupHash('t')).toMatch(/^[0-9a-f]{64}$/);
    expect(new TokenCipher('another-key-of-thirty-two-bytes!!!').lookupHash('t')).not.toBe(
      cipher.lookupHash('t'),
    );
  });
});
