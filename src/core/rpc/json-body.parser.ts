/** Thrown by the JSON body parser; /rpc answers it with -32700, other routes with 400. */
export class JsonBodyParseError extends Error {
  readonly statusCode = 400;
  constructor() {
    super('Malformed JSON body');
    this.name = 'JsonBodyParseError';
  }
}

/**
 * Parses a JSON body; used in place of Fastify's parser so /rpc can answer in JSON-RPC terms.
 * It declares `done`, so Nest's adapter lets it complete synchronously (a parser without it is
 * completed through its promise: two promises per request).
 */
export function parseJsonBody(
  _request: unknown,
  body: Buffer | string,
  done: (error: Error | null, parsed?: unknown) => void,
): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    done(new JsonBodyParseError());
    return;
  }
  done(null, parsed);
}
