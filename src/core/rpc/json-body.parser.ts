/** Thrown by the JSON body parser; /rpc answers it with -32700, other routes with 400. */
export class JsonBodyParseError extends Error {
  readonly statusCode = 400;
  constructor() {
    super('Malformed JSON body');
    this.name = 'JsonBodyParseError';
  }
}

/** Parses a JSON body; used in place of Fastify's parser so /rpc can answer in JSON-RPC terms. */
// Async on purpose: Nest's Fastify adapter completes a two-argument parser through its promise.
export async function parseJsonBody(_request: unknown, body: Buffer | string): Promise<unknown> {
  await Promise.resolve();
  const text = typeof body === 'string' ? body : body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new JsonBodyParseError();
  }
}
