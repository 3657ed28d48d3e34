import { GatewayErrorCode } from '../core/errors/gateway-error-code.js';
import { GatewayException } from '../core/errors/gateway.exception.js';

export type BudgetKind = 'session' | 'subject';

/** A message whose budget is spent (used >= limit): refused before anything ran (-32012). */
export class BudgetExceededException extends GatewayException {
  constructor(budget: BudgetKind, used: number, limit: number, resetAt?: string) {
    const until = resetAt === undefined ? '' : ` until ${resetAt}`;
    super(
      GatewayErrorCode.BUDGET_EXCEEDED,
      `The ${budget} token budget is spent (${used} of ${limit} tokens used)${until}`,
      { budget, used, limit, ...(resetAt === undefined ? {} : { resetAt }) },
    );
  }
}
