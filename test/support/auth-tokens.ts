import { SignJWT, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { createServer, type IncomingMessage, type Server } from 'node:http';

export const TEST_SECRET = 'test-secret-of-at-least-thirty-two-bytes!';
export const SECRET_KEY = new TextEncoder().encode(TEST_SECRET);

const now = (): number => Math.floor(Date.now() / 1000);

/** A token the gateway should accept, with whatever claims or header a test overrides. */
export async function signToken(
  claims: JWTPayload = {},
  options: {
    header?: Partial<JWTHeaderParameters>;
    key?: Parameters<SignJWT['sign']>[0];
    exp?: number | null;
  } = {},
): Promise<string> {
  const payload: JWTPayload = { sub: 'alice', scope: 'sessions:read', iat: now(), ...claims };
  if (options.exp !== null) payload.exp = options.exp ?? now() + 600;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', ...options.header })
    .sign(options.key ?? SECRET_KEY);
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsigned token with the given `alg` spelling. */
export function unsignedToken(alg: string, signature = ''): string {
  return `${b64({ alg, typ: 'JWT' })}.${b64({ sub: 'mallory', scope: 'admin', exp: now() + 600 })}.${signature}`;
}

/** A throwaway HTTP server that records every request it gets. */
export async function recordingServer(
  respond: (request: IncomingMessage) => { status: number; body: string } = () => ({
    status: 404,
    body: '',
  }),
): Promise<{ url: string; hits: string[]; server: Server; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = createServer((request, response) => {
    hits.push(request.url ?? '');
    const { status, body } = respond(request);
    response.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    hits,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
