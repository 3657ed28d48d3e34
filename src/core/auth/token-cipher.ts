import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const SALT = 'openclaw-gateway/v1';
const VERSION = 'v1';

function derive(ikm: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, SALT, info, 32));
}

/**
 * Protects tokens at rest: AES-256-GCM for the stored copy, HMAC-SHA256 for the lookup key.
 * Both keys come from one secret through HKDF with distinct labels; neither is the secret itself.
 */
export class TokenCipher {
  private readonly encryptionKey: Buffer;
  private readonly lookupKey: Buffer;

  constructor(secret: string) {
    this.encryptionKey = derive(secret, 'refresh-token encryption');
    this.lookupKey = derive(secret, 'refresh-token lookup');
  }

  /** A keyed hash: equal tokens give equal hashes, and a dump without the key reveals nothing. */
  lookupHash(token: string): string {
    return createHmac('sha256', this.lookupKey).update(token, 'utf8').digest('hex');
  }

  /** `v1.<iv>.<ciphertext>.<tag>`; `aad` binds the blob to its row. */
  encrypt(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, ciphertext, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  decrypt(blob: string, aad: string): string {
    const [version, iv, ciphertext, tag] = blob.split('.');
    if (version !== VERSION || !iv || !ciphertext || !tag)
      throw new Error('Unknown ciphertext format');
    const decipher = createDecipheriv(
      'aes-256-gcm',
      this.encryptionKey,
      Buffer.from(iv, 'base64url'),
    );
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(ciphertext, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  }
}
