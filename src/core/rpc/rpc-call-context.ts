import type { ExecutionContext } from '@nestjs/common';
import type { Caller } from '../identity/caller.js';
import type { RpcConnection } from './rpc-connection.js';
import type { RpcMethodMetadata } from './rpc-method.decorator.js';

export type RpcTransport = 'http' | 'ws';

/** Everything a guard or handler may know about one call, whatever the transport. */
export interface RpcCallContext {
  method: RpcMethodMetadata;
  /** Raw params as received (before validation). */
  params: unknown;
  transport: RpcTransport;
  /** Set by the authentication guard. */
  caller?: Caller;
  /** Address of the peer (after trusted-proxy resolution). */
  ip: string;
  /** Request headers (HTTP) or upgrade request headers (WS), lower-cased. */
  headers: Record<string, string | string[] | undefined>;
  /** Correlates log lines with the call; sent back in -32603 errors. */
  correlationId: string;
  /** The WebSocket the call came over, for subscriptions. */
  connection?: RpcConnection;
  /** True for a JSON-RPC notification (no reply will be sent). */
  isNotification: boolean;
  /** Aborted when the transport goes away, the client cancels the call, or the gateway stops. */
  signal: AbortSignal;
  /**
   * Aborted only when the client cancels this call: `$/cancelRequest` over a WebSocket (whose
   * client may drop and come back), a disconnect over HTTP (where it is `signal`). Work that
   * outlives its connection on purpose, like a session's turn, follows this one.
   */
  cancelSignal: AbortSignal;
  /** Headers the guards want on the HTTP response (rate-limit headers, for instance). */
  responseHeaders: Map<string, string>;
}

/**
 * Where an HTTP transport finds the caller its authentication guard verified for the request
 * (set on the Fastify request by the guard), so every call of the body starts authenticated.
 */
export const REQUEST_CALLER = Symbol('openclaw:request-caller');

/** The execution-context type of a JSON-RPC call, for guards: `context.getType() === 'rpc'`. */
export const RPC_CONTEXT_TYPE = 'rpc';

/** Reads the call context from a guard's ExecutionContext; undefined outside a JSON-RPC call. */
export function getRpcCallContext(context: ExecutionContext): RpcCallContext | undefined {
  return context.getType<string>() === RPC_CONTEXT_TYPE
    ? context.getArgByIndex<RpcCallContext>(1)
    : undefined;
}
