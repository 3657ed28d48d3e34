import { Injectable, Logger } from '@nestjs/common';
import { GatewayConfig } from '../config/gateway-config.js';
import { callCorrelationId } from '../logging/correlation-id.js';
import type { JsonRpcId, JsonRpcResponse } from './json-rpc.types.js';
import type { RpcCallContext, RpcTransport } from './rpc-call-context.js';
import type { RpcConnection } from './rpc-connection.js';
import type { Caller } from '../auth/caller.js';
import { RpcErrorCode } from './rpc-error-code.js';
import { mapRpcError } from './rpc-error.mapper.js';
import { RpcMethodRegistry } from './rpc-method.registry.js';
import { RpcStatsService } from './rpc-stats.service.js';

/** Where a payload came from; the same for every call in it. */
export interface RpcOrigin {
  transport: RpcTransport;
  ip: string;
  headers: Record<string, string | string[] | undefined>;
  correlationId: string;
  connection?: RpcConnection;
  /** Caller already authenticated by the transport (a WebSocket's upgrade), if any. */
  caller?: Caller;
  signal: AbortSignal;
}

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

/**
 * The one JSON-RPC 2.0 dispatcher both transports feed: envelopes, batches, notifications,
 * per-call guards, params validation and error mapping all live here.
 */
@Injectable()
export class RpcDispatcher {
  private readonly logger = new Logger('Rpc');

  constructor(
    private readonly registry: RpcMethodRegistry,
    private readonly stats: RpcStatsService,
    private readonly config: GatewayConfig,
  ) {}

  /** Parses a raw frame or body; malformed JSON is answered with -32700. */
  async dispatchText(text: string, origin: RpcOrigin): Promise<DispatchResult> {
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return {
        response: failure(null, PARSE_ERROR.code, PARSE_ERROR.message),
        responseHeaders: new Map(),
      };
    }
    return this.dispatch(payload, origin);
  }

  async dispatch(payload: unknown, origin: RpcOrigin): Promise<DispatchResult> {
    const responseHeaders = new Map<string, string>();
    if (!Array.isArray(payload)) {
      return { response: await this.call(payload, origin, responseHeaders), responseHeaders };
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
      payload.map((element) => this.call(element, origin, responseHeaders)),
    );
    const answered = replies.filter((reply): reply is JsonRpcResponse => reply !== undefined);
    return { response: answered.length ? answered : undefined, responseHeaders };
  }

  private async call(
    request: unknown,
    origin: RpcOrigin,
    responseHeaders: Map<string, string>,
  ): Promise<JsonRpcResponse | undefined> {
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

    const name = envelope.method as string;
    const isNotification = !hasId;
    const method = this.registry.get(name);
    if (!method) {
      return isNotification
        ? undefined
        : failure(id, RpcErrorCode.MethodNotFound, 'Method not found');
    }

    const correlationId = hasId
      ? callCorrelationId(origin.correlationId, id)
      : origin.correlationId;
    const ctx: RpcCallContext = {
      method: method.metadata,
      params: envelope.params,
      transport: origin.transport,
      caller: origin.caller,
      ip: origin.ip,
      headers: origin.headers,
      correlationId,
      connection: origin.connection,
      isNotification,
      // Read lazily: creating an AbortSignal costs more than most calls, and few calls look.
      get signal() {
        return origin.signal;
      },
      responseHeaders,
    };
    const startedAt = performance.now();
    this.stats.started();
    try {
      const result = await method.invoke(ctx);
      this.stats.finished(name, false);
      this.logger.debug({ method: name, correlationId, ms: performance.now() - startedAt }, 'call');
      return isNotification ? undefined : { jsonrpc: '2.0', id, result: result ?? null };
    } catch (thrown) {
      this.stats.finished(name, true);
      const { error, unexpected } = mapRpcError(thrown, correlationId);
      if (unexpected) {
        this.logger.error({ method: name, correlationId, err: thrown }, 'call failed unexpectedly');
      } else {
        this.logger.debug({ method: name, correlationId, code: error.code }, 'call refused');
      }
      return isNotification ? undefined : { jsonrpc: '2.0', id, error };
    }
  }
}
