import type { GatewayMethod, ParamsOf, ResultOf } from './client.types.js';

/** One call of a batch; `R` is its result's type. */
export interface BatchCall<R = unknown> {
  readonly method: string;
  readonly params: Record<string, unknown>;
  /** Carries the result type only; never set. */
  readonly __result?: R;
}

function call<M extends GatewayMethod>(method: M, params: ParamsOf<M>): BatchCall<ResultOf<M>> {
  return { method, params: params as Record<string, unknown> };
}

/**
 * What `client.batch(b => [...])` hands its callback: the typed methods, each making a call to
 * put in the batch instead of sending it.
 */
export const batchBuilder = {
  session: {
    create: (params: ParamsOf<'session.create'> = {}) => call('session.create', params),
    message: (params: ParamsOf<'session.message'>) => call('session.message', params),
    history: (params: ParamsOf<'session.history'>) => call('session.history', params),
    end: (params: ParamsOf<'session.end'>) => call('session.end', params),
  },
  agent: {
    list: () => call('agent.list', {}),
    status: (params: ParamsOf<'agent.status'>) => call('agent.status', params),
  },
  tools: {
    list: (params: ParamsOf<'tools.list'> = {}) => call('tools.list', params),
    execute: (params: ParamsOf<'tools.execute'>) => call('tools.execute', params),
    approve: (params: ParamsOf<'tool.approve'>) => call('tool.approve', params),
    approvals: () => call('tool.approvals.list', {}),
  },
  rpc: { discover: () => call('rpc.discover', {}) },
  /** Any other method (an extension's), untyped. */
  call: <R = unknown>(method: string, params: Record<string, unknown> = {}): BatchCall<R> => ({
    method,
    params,
  }),
};

export type BatchBuilder = typeof batchBuilder;
