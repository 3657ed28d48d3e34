import { RpcErrorCode } from '../core/rpc/rpc-error-code.js';
import type { JsonRpcErrorObject } from '../core/rpc/json-rpc.types.js';

/** The name of a gateway error code (`'NotFound'` for -32004), or `'Unknown'` for another code. */
export type RpcErrorKind = keyof typeof RpcErrorCode | 'Unknown';

/** One reason params were refused (`-32602`, `data.violations`). */
export interface ParamsViolation {
  path: string;
  message: string;
}

/**
 * A JSON-RPC error the gateway answered, with its code, message and data as sent. `kind` names
 * the code (switch on it, or compare `code` with `RpcErrorCode`); the getters read the data the
 * gateway documents for some codes.
 */
export class RpcError extends Error {
  readonly kind: RpcErrorKind;

  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
    this.kind = rpcErrorKind(code);
  }

  static from(error: JsonRpcErrorObject): RpcError {
    return new RpcError(error.code, error.message, error.data);
  }

  /** `-32602`: what was wrong with the params. */
  get violations(): ParamsViolation[] | undefined {
    const violations = this.field('violations');
    return Array.isArray(violations) ? (violations as ParamsViolation[]) : undefined;
  }

  /** `-32003`: the scope the token lacks. */
  get requiredScope(): string | undefined {
    const scope = this.field('requiredScope');
    return typeof scope === 'string' ? scope : undefined;
  }

  /** `-32005`: when the call may be tried again. */
  get retryAfterMs(): number | undefined {
    const ms = this.field('retryAfterMs');
    return typeof ms === 'number' ? ms : undefined;
  }

  /** Whether the same call may succeed later (the gateway says so, or the code implies it). */
  get retryable(): boolean {
    const flag = this.field('retryable');
    if (typeof flag === 'boolean') return flag;
    return this.is(RpcErrorCode.RateLimited) || this.is(RpcErrorCode.Unavailable);
  }

  /** Whether this is the error `code` names: `error.is(RpcErrorCode.NotFound)`. */
  is(code: RpcErrorCode): boolean {
    return this.code === (code as number);
  }

  private field(name: string): unknown {
    return typeof this.data === 'object' && this.data !== null
      ? (this.data as Record<string, unknown>)[name]
      : undefined;
  }
}

export function rpcErrorKind(code: number): RpcErrorKind {
  const name = (RpcErrorCode as unknown as Record<number, string | undefined>)[code];
  return name === undefined ? 'Unknown' : (name as RpcErrorKind);
}
