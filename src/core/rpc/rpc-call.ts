import type { Caller } from '../identity/caller.js';
import { callCorrelationId } from '../logging/correlation-id.js';
import { LinkedAbortController } from '../abort/linked-abort.controller.js';
import { RequestCancelledException } from '../errors/request-cancelled.exception.js';
import type { Span } from '../tracing/gateway-tracer.js';
import type { CancellableCall, InFlightCalls } from './in-flight-calls.js';
import type { JsonRpcId } from './json-rpc.types.js';
import type { RpcCallContext, RpcTransport } from './rpc-call-context.js';
import type { RpcConnection } from './rpc-connection.js';
import type { RpcMethodMetadata } from './rpc-method.decorator.js';

/** Where a payload came from; the same for every call in it. */
export interface RpcOrigin {
  transport: RpcTransport;
  ip: string;
  headers: Record<string, string | string[] | undefined>;
  correlationId: string;
  connection?: RpcConnection;
  /** Caller the transport already authenticated (a WebSocket's upgrade, an HTTP request's guard). */
  caller?: Caller;
  signal: AbortSignal;
}

/** The cancel signal of a call no one can cancel (a notification over a WebSocket). */
const NEVER = new AbortController().signal;

/**
 * One call's context. A class, so that what few calls read (the correlation id of a call with an
 * id, the abort signals) is computed on first read rather than for every call.
 */
export class RpcCall implements RpcCallContext, CancellableCall {
  caller?: Caller;
  /** The call's span, when tracing is on. */
  span?: Span;
  private ownCorrelationId?: string;
  /** Where the call is booked while it runs, for `$/cancelRequest` (a WebSocket call with an id). */
  book?: InFlightCalls;
  /** The client cancelled it: whatever the handler ends with, the answer is -32800. */
  cancelled = false;
  private cancelController?: AbortController;
  private linked?: LinkedAbortController;

  constructor(
    readonly method: RpcMethodMetadata,
    readonly params: unknown,
    readonly isNotification: boolean,
    private readonly id: JsonRpcId,
    private readonly origin: RpcOrigin,
    readonly responseHeaders: Map<string, string>,
  ) {
    this.caller = origin.caller;
  }

  get transport(): RpcTransport {
    return this.origin.transport;
  }

  get ip(): string {
    return this.origin.ip;
  }

  get headers(): Record<string, string | string[] | undefined> {
    return this.origin.headers;
  }

  get connection(): RpcConnection | undefined {
    return this.origin.connection;
  }

  get signal(): AbortSignal {
    if (!this.origin.connection) return this.origin.signal;
    // The connection's signal or this call's own cancellation, whichever comes first.
    return (this.linked ??= new LinkedAbortController(this.origin.signal, this.cancelSignal))
      .signal;
  }

  get cancelSignal(): AbortSignal {
    // Over HTTP a client that leaves has cancelled: nobody can read the answer any more.
    if (!this.origin.connection) return this.origin.signal;
    if (this.isNotification) return NEVER;
    if (!this.cancelController) {
      this.cancelController = new AbortController();
      if (this.cancelled) this.cancelController.abort(new RequestCancelledException());
    }
    return this.cancelController.signal;
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.cancelController?.abort(new RequestCancelledException());
  }

  /** The call has answered: unbooked, unlinked from its connection. True when it was cancelled. */
  settle(id: JsonRpcId): boolean {
    this.book?.delete(id, this);
    this.book = undefined;
    this.linked?.dispose();
    return this.cancelled;
  }

  get correlationId(): string {
    return (this.ownCorrelationId ??= this.isNotification
      ? this.origin.correlationId
      : callCorrelationId(this.origin.correlationId, this.id));
  }
}
