import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../identity/caller.js';
import { requestCorrelationId } from '../logging/correlation-id.js';
import { clientIp, type TrustedProxies } from './client-ip.js';
import type { RpcOrigin } from './rpc-call.js';
import { REQUEST_CALLER } from './rpc-call-context.js';

const CLIENT_GONE = 'client disconnected';

/**
 * Where POST /rpc's calls come from. A class with lazy parts rather than an object literal with
 * closures: most calls never read the client's address (an authenticated caller is counted by
 * subject) or the abort signal, and each per-request closure or regex was garbage to collect.
 */
export class HttpRpcOrigin implements RpcOrigin {
  readonly transport = 'http' as const;
  readonly headers: FastifyRequest['headers'];
  readonly caller: Caller | undefined;
  private address?: string;
  private ownCorrelationId?: string;
  private controller?: AbortController;
  private onClose?: () => void;

  constructor(
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly proxies: TrustedProxies,
  ) {
    this.headers = request.headers;
    this.caller = (request as FastifyRequest & { [REQUEST_CALLER]?: Caller })[REQUEST_CALLER];
  }

  get ip(): string {
    return (this.address ??= clientIp(this.request.ip, this.headers, this.proxies));
  }

  get correlationId(): string {
    return (this.ownCorrelationId ??= requestCorrelationId(this.request));
  }

  /**
   * Made on first read. The response closes when the connection does; before the reply has been
   * written, that means the client went away and the call is cancelled. (The request stream
   * closes as soon as its body is read, so it says nothing about the client.)
   */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      const controller = this.controller;
      const response = this.reply.raw;
      if (response.destroyed || this.request.raw.socket?.destroyed) {
        controller.abort(new Error(CLIENT_GONE));
      } else {
        this.onClose = () => {
          if (!response.writableEnded) controller.abort(new Error(CLIENT_GONE));
        };
        response.on('close', this.onClose);
      }
    }
    return this.controller.signal;
  }

  /** Stops watching the connection once the reply is out. */
  release(): void {
    if (this.onClose) this.reply.raw.off('close', this.onClose);
  }
}
