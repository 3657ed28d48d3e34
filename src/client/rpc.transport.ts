import type { JsonRpcResponse } from '../core/rpc/json-rpc.types.js';
import type { ConnectionState } from './client.types.js';
import { ConnectionError } from './connection.error.js';
import { RpcError } from './rpc.error.js';

/** A call the client sends. */
export interface OutgoingCall {
  method: string;
  params: Record<string, unknown>;
  /**
   * Safe to send again when the connection drops before the reply (reads, and messages with an
   * idempotency key): the WebSocket transport re-sends it after reconnecting.
   */
  retry: boolean;
  signal?: AbortSignal;
}

/** How one call ended: its result, or an error (RpcError, ConnectionError, an abort). */
export type CallOutcome = { ok: true; value: unknown } | { ok: false; error: Error };

/** What the client needs of a transport; batches answer one outcome per call, in order. */
export interface RpcTransport {
  readonly kind: 'ws' | 'http';
  readonly state: ConnectionState;
  connect(): Promise<void>;
  call(call: OutgoingCall): Promise<unknown>;
  batch(calls: OutgoingCall[]): Promise<CallOutcome[]>;
  onStateChange(listener: (state: ConnectionState) => void): () => void;
  close(): void;
}

/** The outcome a JSON-RPC response stands for. */
export function outcomeOf(response: JsonRpcResponse): CallOutcome {
  return 'error' in response
    ? { ok: false, error: RpcError.from(response.error) }
    : { ok: true, value: response.result };
}

/** Reads a frame or body into responses; anything else is not the gateway talking. */
export function parseResponses(text: string): JsonRpcResponse[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ConnectionError('The gateway answered something that is not JSON', undefined, {
      cause,
    });
  }
  return (Array.isArray(parsed) ? parsed : [parsed]).filter(isResponse);
}

export function isResponse(item: unknown): item is JsonRpcResponse {
  return typeof item === 'object' && item !== null && ('result' in item || 'error' in item);
}

/** The reason an aborted call rejects with. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('The call was aborted');
}
