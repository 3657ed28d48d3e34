import { createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TokenLookupHasher } from './token-lookup.hasher.js';

describe('TokenLookupHasher', () => {
  const hasher = new TokenLookupHasher('a-key-of-at-least-thirty-two-bytes!!');

  it('gives a stable keyed lookup hash that differs per key', () => {
    expect(hasher.lookupHash('t')).toBe(hasher.lookupHash('t'));
    expect(hasher.lookupHash('t')).toMatch(/^[0-9a-f]{64}$/);
    expect(new TokenLookupHasher('another-key-of-thirty-two-bytes!!!').lookupHash('t')).not.toBe(
      hasher.lookupHash('t'),
    );
  });

  it('hashes as rows stored before the ciphertext was dropped were hashed, so they still match', () => {
    const secret = 'a-key-of-at-least-thirty-two-bytes!!';
    const key = Buffer.from(
      hkdfSync('sha256', secret, 'openclaw-gateway/v1', 'refresh-token lookup', 32),
    );
    const stored = createHmac('sha256', key).update('ocr_secret', 'utf8').digest('hex');
    expect(new TokenLookupHasher(secret).lookupHash('ocr_secret')).toBe(stored);
  });
});
