import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** Answers one request: writes the response (usually an SSE stream) to `res`. */
export type ProviderHandler<B> = (request: B, res: ServerResponse) => void | Promise<void>;

/** One request with the headers it came with (where the API key travels). */
export interface ReceivedRequest<B> {
  url: string;
  headers: IncomingHttpHeaders;
  body: B;
}

/** What distinguishes one provider's fake: its endpoint, its 404 and its default answer. */
export interface FakeProviderOptions<B> {
  /** The one path it serves, under /v1 (the agents' baseUrl). */
  path: string;
  notFound(req: IncomingMessage, res: ServerResponse): void;
  fallback: ProviderHandler<B>;
}

/**
 * An LLM provider on a loopback port: POST to its path is answered by the queued handlers in
 * order, then by the fallback. The provider fakes (chat completions, Responses, Messages) share
 * it and add their wire format.
 */
export class FakeProviderServer<B> {
  readonly received: Array<ReceivedRequest<B>> = [];
  fallback: ProviderHandler<B>;
  private readonly queue: Array<ProviderHandler<B>> = [];
  private readonly open = new Set<ServerResponse>();
  private readonly server: Server = createServer();

  protected constructor(private readonly options: FakeProviderOptions<B>) {
    this.fallback = options.fallback;
    this.server.on('request', (req, res) => void this.handle(req, res));
  }

  protected async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** What an agent's `baseUrl` is set to: the SDK appends the endpoint's path. */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Answers the next requests with `handlers`, one each. */
  next(...handlers: Array<ProviderHandler<B>>): void {
    this.queue.push(...handlers);
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== `/v1${this.options.path}`) {
      this.options.notFound(req, res);
      return;
    }
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const body = JSON.parse(text) as B;
    this.received.push({ url: req.url, headers: req.headers, body });
    this.open.add(res);
    res.on('close', () => this.open.delete(res));
    await (this.queue.shift() ?? this.fallback)(body, res);
  }
}
