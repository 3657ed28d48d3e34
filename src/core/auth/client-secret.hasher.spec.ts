import { describe, expect, it } from 'vitest';
import { hashClientSecret, verifyClientSecret } from './client-secret.hasher.js';

describe('client secret hashing', () => {
  it('salts every hash and verifies only the right secret', async () => {
    const [a, b] = await Promise.all([hashClientSecret('s3cret'), hashClientSecret('s3cret')]);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(await verifyClientSecret('s3cret', a)).toBe(true);
    expect(await verifyClientSecret('s3creT', a)).toBe(false);
    expect(await verifyClientSecret('s3cret', 'plain')).toBe(false);
  });
});
