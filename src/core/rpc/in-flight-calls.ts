import type { JsonRpcId } from './json-rpc.types.js';

/** The notification that cancels a call of the same connection (the LSP convention). */
export const CANCEL_REQUEST_METHOD = '$/cancelRequest';

/** A call in flight that its client may cancel. */
export interface CancellableCall {
  cancel(): void;
}

/**
 * A connection's calls in flight, by JSON-RPC id, so that `$/cancelRequest { id }` finds the one
 * to stop. Only calls that are still running after their first synchronous step are booked, and
 * the map is made on the first of those: a connection whose calls answer at once pays nothing.
 * It holds at most what the connection may have in flight (`ws.maxInFlight` frames of at most
 * `gateway.maxBatchSize` calls each); cancel requests themselves store nothing.
 */
export class InFlightCalls {
  private byId?: Map<string | number, CancellableCall>;

  /** Books a running call; with two in flight under one id, the first keeps it. */
  add(id: JsonRpcId, call: CancellableCall): void {
    if (id === null) return;
    const byId = (this.byId ??= new Map());
    if (!byId.has(id)) byId.set(id, call);
  }

  /** The call has answered: a later cancel of its id finds nothing. */
  delete(id: JsonRpcId, call: CancellableCall): void {
    if (id !== null && this.byId?.get(id) === call) this.byId.delete(id);
  }

  get size(): number {
    return this.byId?.size ?? 0;
  }

  /**
   * Cancels the call `params.id` names. Unknown or finished ids and malformed params are
   * ignored: the request is a notification, nobody is told.
   */
  cancel(params: unknown): void {
    if (typeof params !== 'object' || params === null) return;
    const id = (params as { id?: unknown }).id;
    if (typeof id !== 'string' && typeof id !== 'number') return;
    this.byId?.get(id)?.cancel();
  }
}

/**
 * The params of a frame that is exactly one `$/cancelRequest` notification, else undefined. The
 * WebSocket transport reads such a frame even at its in-flight bound, where others wait: a cancel
 * must not queue behind the calls it cancels. Only frames naming the method are parsed here.
 */
export function cancelRequestParams(text: string): { params: unknown } | undefined {
  if (!text.includes(CANCEL_REQUEST_METHOD)) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const envelope = payload as Record<string, unknown>;
  if (envelope.jsonrpc !== '2.0' || envelope.method !== CANCEL_REQUEST_METHOD) return undefined;
  if ('id' in envelope) return undefined;
  return { params: envelope.params };
}
