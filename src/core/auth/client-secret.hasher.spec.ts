import { describe, expect, it } from 'vitest';
import {
  CLIENT_SECRET_HASH_CONCURRENCY,
  CLIENT_SECRET_HASH_QUEUE,
  ClientSecretHasherBusyError,
  hashClientSecret,
  hashingGate,
  verifyClientSecret,
} from './client-secret.hasher.js';

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

describe('client secret hashing under a flood', () => {
  it('hashes at most two secrets at once and refuses beyond a short line', async () => {
    const stored = await hashClientSecret('s3cret');
    let mostAtOnce = 0;
    const watch = setInterval(() => (mostAtOnce = Math.max(mostAtOnce, hashingGate.active)), 1);
    const flood = Array.from({ length: 200 }, (_, i) =>
      verifyClientSecret(`guess-${i}`, stored).then(
        (ok) => (ok ? 'match' : 'checked'),
        (err: unknown) => (err instanceof ClientSecretHasherBusyError ? 'busy' : 'error'),
      ),
    );
    const outcomes = await Promise.all(flood);
    clearInterval(watch);
    const count = (what: string) => outcomes.filter((o) => o === what).length;
    expect(count('checked')).toBe(CLIENT_SECRET_HASH_CONCURRENCY + CLIENT_SECRET_HASH_QUEUE);
    expect(count('busy')).toBe(200 - count('checked'));
    expect(mostAtOnce).toBeLessThanOrEqual(CLIENT_SECRET_HASH_CONCURRENCY);
    // Once the line has drained, the right secret verifies again.
    expect(await verifyClientSecret('s3cret', stored)).toBe(true);
  });
});
