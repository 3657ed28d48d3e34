import { createHmac, hkdfSync } from 'node:crypto';

const SALT = 'openclaw-gateway/v1';

/**
 * Tokens at rest are only a keyed hash (HMAC-SHA256): a refresh token is looked up by it and
 * never read back, so no copy of it is stored. The key comes from the configured secret through
 * HKDF with its own label (the one hashes were always made with, so stored rows keep matching).
 */
export class TokenLookupHasher {
  private readonly lookupKey: Buffer;

  constructor(secret: string) {
    this.lookupKey = Buffer.from(hkdfSync('sha256', secret, SALT, 'refresh-token lookup', 32));
  }

  /** Equal tokens give equal hashes, and a dump without the key reveals nothing. */
  lookupHash(token: string): string {
    return createHmac('sha256', this.lookupKey).update(token, 'utf8').digest('hex');
  }
}
