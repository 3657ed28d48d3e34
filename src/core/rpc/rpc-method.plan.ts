import type { RpcCallContext } from './rpc-call-context.js';
import type { RpcCallCheck, RpcMethodDescriptor } from './rpc-guard.js';
import type { ParamsValidator } from './rpc-params.validator.js';

/**
 * One method's call pipeline, compiled at boot: the guards' checks in Nest's order (global, then
 * the class's, then the method's), the params validator, and the bound handler. Guards always run
 * before params are validated, so an unauthenticated caller learns nothing from -32602.
 */
export interface RpcMethodPlan extends RpcMethodDescriptor {
  readonly checks: readonly RpcCallCheck[];
  readonly validate: ParamsValidator;
  readonly invoke: (params: object, call: RpcCallContext) => unknown;
}

/**
 * Runs a plan as plain function calls: synchronous until a check or the handler returns a
 * promise, so a call that waits for nothing costs no promise of its own. Refusals are thrown.
 */
export function runPlan(plan: RpcMethodPlan, call: RpcCallContext, from = 0): unknown {
  const { checks } = plan;
  for (let i = from; i < checks.length; i++) {
    const pending = checks[i](call);
    if (pending !== undefined) return pending.then(() => runPlan(plan, call, i + 1));
  }
  return plan.invoke(plan.validate(call.params), call);
}
