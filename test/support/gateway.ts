import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import WebSocket from 'ws';
import type { GatewayModuleOptions } from '../../src/gateway-module.options.js';
import { createGatewayApp } from '../../src/gateway.factory.js';
import type { GatewayConfigInput } from '../../src/core/config/config.loader.js';
import { signToken, TEST_SECRET } from './auth-tokens.js';

export interface TestGateway {
  app: NestFastifyApplication;
  baseUrl: string;
  wsUrl: string;
  /** A token of subject `test-user` with every scope, signed with TEST_SECRET. */
  token: string;
  /** `{ authorization: 'Bearer <token>' }`. */
  auth: Record<string, string>;
  close(): Promise<void>;
}

export const ALL_SCOPES = 'sessions:read sessions:write agents:read tools:read tools:execute admin';

/** Boots the real gateway on a free loopback port, isolated from the machine's env and files. */
export async function startGateway(
  config: GatewayConfigInput = {},
  options: Omit<GatewayModuleOptions, 'config'> & {
    /** Configure no JWT secret, as on a first run (the gateway generates one). */
    withoutSecret?: boolean;
    /** Keep the shipped rate limits (60/min per client) instead of the tests' high ones. */
    defaultLimits?: boolean;
  } = {},
): Promise<TestGateway> {
  const { withoutSecret, defaultLimits, ...moduleOptions } = options;
  const testLimits = defaultLimits
    ? {}
    : {
        client: { limit: 1_000_000, ttl: 60_000 },
        session: { limit: 1_000_000, ttl: 60_000 },
        authFailures: { limit: 1_000_000, ttl: 60_000 },
      };
  const secret = withoutSecret ? {} : { secret: TEST_SECRET };
  const app = await createGatewayApp({
    configFile: false,
    env: {},
    ...moduleOptions,
    config: {
      ...config,
      gateway: { port: 0, ...(config.gateway ?? {}) },
      database: { url: 'sqlite::memory:', ...(config.database ?? {}) },
      auth: { ...(config.auth ?? {}), jwt: { ...secret, ...(config.auth?.jwt ?? {}) } },
      // Tests that are not about limits must not meet them; those that are set their own.
      rateLimit: { ...testLimits, ...(config.rateLimit ?? {}) },
      log: { level: 'warn', ...(config.log ?? {}) },
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.getHttpServer().address();
  if (!address || typeof address !== 'object') throw new Error('no address');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const token = await signToken({ sub: 'test-user', scope: ALL_SCOPES });
  return {
    app,
    baseUrl,
    token,
    auth: { authorization: `Bearer ${token}` },
    wsUrl: `ws://127.0.0.1:${address.port}/ws`,
    close: () => app.close(),
  };
}

export interface HttpReply {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

/** POSTs a raw body to /rpc. */
export async function postRpc(
  baseUrl: string,
  body: unknown,
  init: { raw?: boolean; headers?: Record<string, string> } = {},
): Promise<HttpReply> {
  const response = await fetch(`${baseUrl}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.raw ? (body as string) : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

/** A WebSocket client that queues every frame it receives, for tests. */
export class WsTestClient {
  readonly frames: any[] = [];
  private waiters: Array<() => void> = [];
  closeCode?: number;
  closeReason?: string;
  readonly closed: Promise<number>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse((data as Buffer).toString('utf8')));
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve(code);
      }),
    );
  }

  static async connect(
    url: string,
    options: { protocols?: string[]; headers?: Record<string, string> } = {},
  ): Promise<WsTestClient> {
    const socket = new WebSocket(url, options.protocols ?? ['openclaw.v1'], {
      headers: options.headers,
    });
    const client = new WsTestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
    });
    return client;
  }

  send(payload: unknown): void {
    this.socket.send(typeof payload === 'string' ? payload : JSON.stringify(payload));
  }

  /** Waits for the next frame matching the predicate and removes it from the queue. */
  async next(predicate: (frame: any) => boolean = () => true, timeoutMs = 5000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(predicate);
      if (index >= 0) return this.frames.splice(index, 1)[0];
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a request and waits for the reply with its id. */
  async call(method: string, params?: unknown, id: string | number = Math.random()): Promise<any> {
    this.send({ jsonrpc: '2.0', method, params, id });
    return this.next((frame) => !Array.isArray(frame) && frame.id === id);
  }

  close(): void {
    this.socket.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((wake) => wake());
  }
}

export interface RpcReply {
  result?: any;
  error?: { code: number; message: string; data?: any };
}

/**
 * JSON-RPC over HTTP with the test gateway's token: `rpc` returns the reply, `ok` its result (and
 * throws on an error). Takes a getter because suites boot their gateway in beforeAll.
 */
export function rpcOver(gateway: () => TestGateway): {
  rpc: (method: string, params?: unknown) => Promise<RpcReply>;
  ok: (method: string, params?: unknown) => Promise<any>;
} {
  let seq = 0;
  const rpc = async (method: string, params?: unknown): Promise<RpcReply> => {
    const { baseUrl, auth } = gateway();
    const reply = await postRpc(
      baseUrl,
      { jsonrpc: '2.0', id: ++seq, method, params },
      { headers: auth },
    );
    return reply.body as RpcReply;
  };
  const ok = async (method: string, params?: unknown): Promise<any> => {
    const reply = await rpc(method, params);
    if (reply.error) throw new Error(`${method}: ${JSON.stringify(reply.error)}`);
    return reply.result;
  };
  return { rpc, ok };
}
