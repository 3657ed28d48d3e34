import { Injectable, Logger, Optional } from '@nestjs/common';
import { SecurityAuditLog } from '../audit/security-audit.log.js';
import { GatewayConfig } from '../config/gateway-config.js';
import { ADMIN_SCOPE } from '../identity/caller.js';
import { RequestCancelledException } from '../errors/request-cancelled.exception.js';
import { CANCEL_REQUEST_METHOD, type InFlightCalls } from './in-flight-calls.js';
import type { JsonRpcId, JsonRpcResponse } from './json-rpc.types.js';
import { RpcCall, type RpcOrigin } from './rpc-call.js';
import { RpcErrorCode } from './rpc-error-code.js';
import { mapRpcError } from './rpc-error.mapper.js';
import { RpcMethodRegistry, type RegisteredRpcMethod } from './rpc-method.registry.js';
import { RpcStatsService } from './rpc-stats.service.js';
import { TracingService } from '../tracing/tracing.service.js';
import { runTracedCall } from './rpc-call.tracing.js';
import { splitMeta } from './rpc-meta.js';

export type { RpcOrigin } from './rpc-call.js';

/** Errors a guard answers before a method runs: its refusal is the guard's own audit record. */
const GUARD_REFUSALS = new Set<number>([RpcErrorCode.Forbidden, RpcErrorCode.Unauthenticated]);

export interface DispatchResult {
  /** Undefined when nothing is to be sent back (notifications only). */
  response?: JsonRpcResponse | JsonRpcResponse[];
  /** Headers guards asked for (rate-limit headers); the last call's value wins. */
  responseHeaders: Map<string, string>;
}

const PARSE_ERROR = { code: RpcErrorCode.ParseError, message: 'Parse error' } as const;

function isId(value: unknown): value is JsonRpcId {
  return (
    typeof value === 'string' ||
    value === null ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function failure(
  id: JsonRpcId,
  code: RpcErrorCode,
  message: string,
  data?: unknown,
): JsonRpcResponse {
  return data === undefined
    ? { jsonrpc: '2.0', id, error: { code, message } }
    : { jsonrpc: '2.0', id, error: { code, message, data } };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/**
 * The one JSON-RPC 2.0 dispatcher both transports feed: envelopes, batches and notifications
 * here; each call runs its method's compiled plan (guards, params, handler) and anything thrown
 * becomes a JSON-RPC error in mapRpcError.
 */
@Injectable()
export class RpcDispatcher {
  private readonly logger = new Logger('Rpc');
  private readonly traceCalls: boolean;

  constructor(
    private readonly registry: RpcMethodRegistry,
    private readonly stats: RpcStatsService,
    private readonly config: GatewayConfig,
    @Optional() private readonly tracing?: TracingService,
    @Optional() private readonly audit?: SecurityAuditLog,
  ) {
    // A debug line per call is formatted only when it will be written.
    this.traceCalls = config.log.level === 'debug' || config.log.level === 'trace';
  }

  /** Parses a raw frame or body; malformed JSON is answered with -32700. */
  dispatchText(text: string, origin: RpcOrigin): Promise<DispatchResult> {
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return Promise.resolve({
        response: failure(null, PARSE_ERROR.code, PARSE_ERROR.message),
        responseHeaders: new Map(),
      });
    }
    return this.dispatch(payload, origin);
  }

  async dispatch(payload: unknown, origin: RpcOrigin): Promise<DispatchResult> {
    const responseHeaders = new Map<string, string>();
    if (!Array.isArray(payload)) {
      const reply = this.call(payload, origin, responseHeaders);
      return { response: isThenable(reply) ? await reply : reply, responseHeaders };
    }
    if (payload.length === 0) {
      return {
        response: failure(null, RpcErrorCode.InvalidRequest, 'Invalid Request', {
          reason: 'empty batch',
        }),
        responseHeaders,
      };
    }
    const max = this.config.gateway.maxBatchSize;
    if (payload.length > max) {
      // Refused whole: nothing in an oversize batch runs.
      return {
        response: failure(null, RpcErrorCode.InvalidRequest, 'Invalid Request', {
          reason: `batch of ${payload.length} exceeds the limit of ${max}`,
        }),
        responseHeaders,
      };
    }
    const replies = await Promise.all(
      payload.map(async (element) => this.call(element, origin, responseHeaders)),
    );
    const answered = replies.filter((reply): reply is JsonRpcResponse => reply !== undefined);
    return { response: answered.length ? answered : undefined, responseHeaders };
  }

  /** One call: its reply, synchronously when nothing in its plan waited. */
  private call(
    request: unknown,
    origin: RpcOrigin,
    responseHeaders: Map<string, string>,
  ): JsonRpcResponse | undefined | Promise<JsonRpcResponse | undefined> {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      return failure(null, RpcErrorCode.InvalidRequest, 'Invalid Request', {
        reason: 'not an object',
      });
    }
    const envelope = request as Record<string, unknown>;
    const hasId = 'id' in envelope;
    const id = hasId && isId(envelope.id) ? envelope.id : null;
    const reason =
      envelope.jsonrpc !== '2.0'
        ? 'jsonrpc must be "2.0"'
        : typeof envelope.method !== 'string'
          ? 'method must be a string'
          : hasId && !isId(envelope.id)
            ? 'id must be a string, a number or null'
            : 'params' in envelope &&
                (typeof envelope.params !== 'object' || envelope.params === null)
              ? 'params must be an object or an array'
              : undefined;
    if (reason) return failure(id, RpcErrorCode.InvalidRequest, 'Invalid Request', { reason });

    const calls = origin.connection?.calls;
    if (calls && envelope.method === CANCEL_REQUEST_METHOD) {
      calls.cancel(envelope.params);
      return hasId ? { jsonrpc: '2.0', id, result: null } : undefined;
    }
    const method = this.registry.get(envelope.method as string);
    if (!method) {
      return hasId ? failure(id, RpcErrorCode.MethodNotFound, 'Method not found') : undefined;
    }
    // MCP's `_meta` (trace context and the like) rides in params on any method; it is not a
    // parameter, so it is taken out before validation.
    const { params, meta } = splitMeta(envelope.params);
    const call = new RpcCall(method.metadata, params, !hasId, id, origin, responseHeaders);
    // A WebSocket call with an id may be cancelled by it while it runs.
    const book = hasId ? calls : undefined;
    const tracer = this.tracing?.tracer;
    if (!tracer) return this.run(method, call, id, book);
    const traced = {
      method: method.metadata.name,
      transport: origin.transport,
      headers: origin.headers,
      meta,
    };
    return runTracedCall(tracer, traced, (span) => {
      call.span = span;
      return this.run(method, call, id, book);
    });
  }

  /** Runs the call's plan; its reply, synchronously when nothing in the plan waited. */
  private run(
    method: RegisteredRpcMethod,
    call: RpcCall,
    id: JsonRpcId,
    book: InFlightCalls | undefined,
  ): JsonRpcResponse | undefined | Promise<JsonRpcResponse | undefined> {
    const startedAt = this.stats.started();
    let outcome: unknown;
    try {
      outcome = method.run(call);
    } catch (thrown) {
      return this.failed(method, call, id, thrown, startedAt);
    }
    if (!isThenable(outcome)) return this.succeeded(method, call, id, outcome, startedAt);
    // Still running: the client may cancel it by id from now on (a call that answered at once
    // could not have been, so it is never booked).
    if (book) {
      call.book = book;
      book.add(id, call);
    }
    return Promise.resolve(outcome).then(
      (result) => this.succeeded(method, call, id, result, startedAt),
      (thrown: unknown) => this.failed(method, call, id, thrown, startedAt),
    );
  }

  private succeeded(
    method: RegisteredRpcMethod,
    call: RpcCall,
    id: JsonRpcId,
    result: unknown,
    startedAt: number,
  ): JsonRpcResponse | undefined {
    if (call.settle(id)) {
      return this.failed(method, call, id, new RequestCancelledException(), startedAt);
    }
    this.stats.finished(method.metadata.name, false, startedAt);
    if (method.metadata.scope === ADMIN_SCOPE) this.auditAdminCall(call, 'ok');
    if (this.traceCalls) {
      this.logger.debug(
        {
          method: method.metadata.name,
          correlationId: call.correlationId,
          ms: performance.now() - startedAt,
        },
        'call',
      );
    }
    return call.isNotification ? undefined : { jsonrpc: '2.0', id, result: result ?? null };
  }

  private failed(
    method: RegisteredRpcMethod,
    call: RpcCall,
    id: JsonRpcId,
    thrown: unknown,
    startedAt: number,
  ): JsonRpcResponse | undefined {
    // A cancelled call answers -32800 however its handler ended (LSP's RequestCancelled).
    if (call.settle(id) && !(thrown instanceof RequestCancelledException)) {
      thrown = new RequestCancelledException();
    }
    const name = method.metadata.name;
    const { error, unexpected } = mapRpcError(thrown, call.correlationId);
    this.stats.finished(name, true, startedAt, error.code === (RpcErrorCode.RateLimited as number));
    if (call.span) {
      call.span.setAttribute('rpc.jsonrpc.error_code', error.code);
      this.tracing?.tracer?.fail(call.span, String(error.code));
    }
    // A refusal by the guard is its own record (`denied`); here, admin calls that ran and failed.
    if (method.metadata.scope === ADMIN_SCOPE && call.caller && !GUARD_REFUSALS.has(error.code)) {
      this.auditAdminCall(call, 'failed', error.code);
    }
    if (unexpected) {
      this.logger.error(
        { method: name, correlationId: call.correlationId, err: thrown },
        'call failed unexpectedly',
      );
    } else if (this.traceCalls) {
      this.logger.debug(
        { method: name, correlationId: call.correlationId, code: error.code },
        'call refused',
      );
    }
    return call.isNotification ? undefined : { jsonrpc: '2.0', id, error };
  }

  /** An admin-scope call that ran (denials are the guard's record): who, which method, how. */
  private auditAdminCall(call: RpcCall, outcome: 'ok' | 'failed', code?: number): void {
    this.audit?.record({
      action: 'rpc.admin_call',
      outcome,
      subject: call.caller?.subject,
      target: call.method.name,
      ip: call.ip,
      detail: { transport: call.transport, ...(code === undefined ? {} : { code }) },
    });
  }
}
