// The floors' token check: what a bare server does to accept an HS256 bearer token, the same
// check the gateway makes (signature, `exp`, `sub`), with node:crypto and nothing cached.
import { createHmac, timingSafeEqual } from 'node:crypto';

const SECRET = 'bench-secret-of-at-least-thirty-two-bytes!';

/** The verified subject of an `Authorization: Bearer <jwt>` header, or undefined. */
export function verifyBearer(authorization) {
  if (typeof authorization !== 'string' || !authorization.startsWith('Bearer ')) return undefined;
  const token = authorization.slice(7);
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return undefined;
  const expected = createHmac('sha256', SECRET).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const { alg } = JSON.parse(Buffer.from(header, 'base64url').toString());
  if (alg !== 'HS256') return undefined;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  if (typeof claims.sub !== 'string' || !(claims.exp * 1000 > Date.now())) return undefined;
  return claims.sub;
}
