import { RpcErrorCode } from '../core/rpc/rpc-error-code.js';
import type { JsonRpcRequest } from '../core/rpc/json-rpc.types.js';
import type { ConnectionState } from './client.types.js';
import { ConnectionError } from './connection.error.js';
import { RpcError } from './rpc.error.js';
import {
  outcomeOf,
  parseResponses,
  type CallOutcome,
  type OutgoingCall,
  type RpcTransport,
} from './rpc.transport.js';
import type { TokenSource } from './token.source.js';

/**
 * JSON-RPC over `POST /rpc`: one request per call or per batch. A token refused as expired is
 * replaced once (when the token source can) and the request sent again: the gateway refuses it
 * before any method runs, so nothing ran twice.
 */
export class HttpTransport implements RpcTransport {
  readonly kind = 'http';
  private nextId = 1;
  private closed = false;
  private readonly listeners = new Set<(state: ConnectionState) => void>();

  constructor(
    private readonly rpcUrl: string,
    private readonly tokens: TokenSource,
    private readonly fetchFn: typeof fetch,
  ) {}

  get state(): ConnectionState {
    return this.closed ? 'closed' : 'open';
  }

  connect(): Promise<void> {
    return this.closed ? Promise.reject(closedError()) : Promise.resolve();
  }

  async call(call: OutgoingCall): Promise<unknown> {
    const [outcome] = await this.post([call], false);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  batch(calls: OutgoingCall[]): Promise<CallOutcome[]> {
    return this.post(calls, true);
  }

  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listeners.forEach((listener) => listener('closed'));
  }

  private async post(calls: OutgoingCall[], asBatch: boolean): Promise<CallOutcome[]> {
    if (this.closed) throw closedError();
    const requests: JsonRpcRequest[] = calls.map((call) => ({
      jsonrpc: '2.0',
      id: this.nextId++,
      method: call.method,
      params: call.params,
    }));
    const body = JSON.stringify(asBatch ? requests : requests[0]);
    const signal = calls.length === 1 ? calls[0].signal : undefined;
    let response = await this.send(body, await this.tokens.get(), signal);
    if (response.status === 401 && this.tokens.refreshable) {
      this.tokens.invalidate();
      response = await this.send(body, await this.tokens.refresh(), signal);
    }
    const text = await response.text();
    if (text === '') {
      throw new ConnectionError(
        `The gateway answered ${response.status} with no body`,
        response.status,
      );
    }
    let responses;
    try {
      responses = parseResponses(text);
    } catch (error) {
      throw new ConnectionError(`The gateway answered ${response.status}`, response.status, {
        cause: error,
      });
    }
    // A refusal of the whole request (401, 413, an oversize batch) has id null: every call gets it.
    const whole = responses.find((r) => r.id === null && 'error' in r);
    return requests.map((request) => {
      const answer = responses.find((r) => r.id === request.id) ?? whole;
      if (answer) return outcomeOf(answer);
      return {
        ok: false,
        error: new RpcError(RpcErrorCode.InternalError, 'No reply for this call'),
      };
    });
  }

  private async send(body: string, token: string, signal?: AbortSignal): Promise<Response> {
    try {
      return await this.fetchFn(this.rpcUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${token}`,
        },
        body,
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ConnectionError('The gateway could not be reached', undefined, { cause: error });
    }
  }
}

function closedError(): ConnectionError {
  return new ConnectionError('The client is closed');
}
