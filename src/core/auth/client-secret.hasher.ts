import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ConcurrencyGate } from './concurrency-gate.js';

export { GateFullError as ClientSecretHasherBusyError } from './concurrency-gate.js';

// scrypt with N=2^15, r=8: about 32 MiB and tens of milliseconds per check, per OWASP's guidance.
const PARAMS = { N: 32768, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const MAXMEM = 64 * 1024 * 1024;

/**
 * scrypt runs on libuv's pool (4 threads by default), which file and DNS work share: two hashes
 * at a time leave it room and cap scrypt's memory at 64 MiB. A flood beyond the short line is
 * refused (ClientSecretHasherBusyError) instead of queueing requests without bound.
 */
export const CLIENT_SECRET_HASH_CONCURRENCY = 2;
export const CLIENT_SECRET_HASH_QUEUE = 32;
export const hashingGate = new ConcurrencyGate(
  CLIENT_SECRET_HASH_CONCURRENCY,
  CLIENT_SECRET_HASH_QUEUE,
);

function derive(secret: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return hashingGate.run(
    () =>
      new Promise<Buffer>((resolve, reject) =>
        scrypt(secret, salt, KEY_LENGTH, { ...options, maxmem: MAXMEM }, (err, key) =>
          err ? reject(err) : resolve(key),
        ),
      ),
  );
}

/** `scrypt$N$r$p$<salt>$<hash>`, salt unique per secret. */
export async function hashClientSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(secret, salt, PARAMS);
  return [
    'scrypt',
    PARAMS.N,
    PARAMS.r,
    PARAMS.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

/** Compares in constant time; a malformed stored hash never matches. */
export async function verifyClientSecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(secret, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hash of nothing, checked against when a client id is unknown so timing does not tell. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  // A refusal (the gate was full) must not be remembered: the next request computes it again.
  decoy ??= hashClientSecret(randomBytes(32).toString('base64url')).catch((err: unknown) => {
    decoy = undefined;
    throw err;
  });
  return decoy;
}
