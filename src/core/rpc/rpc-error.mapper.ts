import { HttpException, HttpStatus } from '@nestjs/common';
import { assertUnreachable } from '../errors/assert-unreachable.js';
import { GatewayErrorCode } from '../errors/gateway-error-code.js';
import { GatewayException } from '../errors/gateway.exception.js';
import { isStoreUnavailable } from '../errors/store-unavailable.js';
import type { JsonRpcErrorObject } from './json-rpc.types.js';
import { RpcErrorCode } from './rpc-error-code.js';
import { RpcException } from './rpc.exception.js';

function fromDomainCode(code: GatewayErrorCode): RpcErrorCode {
  switch (code) {
    case GatewayErrorCode.INVALID_INPUT:
      return RpcErrorCode.InvalidParams;
    case GatewayErrorCode.UNAUTHENTICATED:
      return RpcErrorCode.Unauthenticated;
    case GatewayErrorCode.FORBIDDEN:
      return RpcErrorCode.Forbidden;
    case GatewayErrorCode.NOT_FOUND:
      return RpcErrorCode.NotFound;
    case GatewayErrorCode.RATE_LIMITED:
      return RpcErrorCode.RateLimited;
    case GatewayErrorCode.CONFLICT:
      return RpcErrorCode.Conflict;
    case GatewayErrorCode.AGENT_FAILED:
      return RpcErrorCode.AgentFailed;
    case GatewayErrorCode.TOOL_FAILED:
      return RpcErrorCode.ToolFailed;
    case GatewayErrorCode.REQUEST_CANCELLED:
      return RpcErrorCode.RequestCancelled;
    case GatewayErrorCode.BUDGET_EXCEEDED:
      return RpcErrorCode.BudgetExceeded;
    default:
      return assertUnreachable(code);
  }
}

/**
 * The JSON-RPC code for an HTTP refusal (a guard's, or Fastify's before any handler ran); the
 * HTTP exception filter uses it too, so /rpc answers the same code whichever layer refused.
 */
export function rpcCodeForHttpStatus(status: HttpStatus): RpcErrorCode | undefined {
  switch (status) {
    case HttpStatus.UNAUTHORIZED:
      return RpcErrorCode.Unauthenticated;
    case HttpStatus.FORBIDDEN:
      return RpcErrorCode.Forbidden;
    case HttpStatus.NOT_FOUND:
      return RpcErrorCode.NotFound;
    case HttpStatus.CONFLICT:
      return RpcErrorCode.Conflict;
    case HttpStatus.TOO_MANY_REQUESTS:
      return RpcErrorCode.RateLimited;
    case HttpStatus.BAD_REQUEST:
      return RpcErrorCode.InvalidParams;
    default:
      return undefined;
  }
}

export interface MappedError {
  error: JsonRpcErrorObject;
  /** True when the error was not one we meant to send: log it with its stack. */
  unexpected: boolean;
}

/**
 * The one place where anything thrown by a guard or handler becomes a JSON-RPC error.
 * Unexpected errors become -32603 with the correlation id; their message never leaves the server.
 */
export function mapRpcError(thrown: unknown, correlationId: string): MappedError {
  if (thrown instanceof RpcException) return { error: thrown.toErrorObject(), unexpected: false };
  if (thrown instanceof GatewayException) {
    const error: JsonRpcErrorObject = {
      code: fromDomainCode(thrown.code),
      message: thrown.message,
    };
    if (thrown.data !== undefined) error.data = thrown.data;
    return { error, unexpected: false };
  }
  if (thrown instanceof HttpException) {
    // Guards from Nest and its ecosystem throw HTTP exceptions (ForbiddenException when a guard
    // returns false, ThrottlerException for limits).
    const code = rpcCodeForHttpStatus(thrown.getStatus());
    if (code !== undefined) {
      const message = code === RpcErrorCode.Forbidden ? 'Forbidden' : thrown.message;
      return { error: { code, message }, unexpected: false };
    }
  }
  if (isStoreUnavailable(thrown)) {
    // An outage, not a bug: the client is told to retry; the outage itself is logged where the
    // store is watched (health checks, the bus, the limit store), not once per refused call.
    return {
      error: {
        code: RpcErrorCode.Unavailable,
        message: 'Service unavailable: a store the gateway needs is unreachable; retry',
        data: { retryable: true, correlationId },
      },
      unexpected: false,
    };
  }
  return {
    error: { code: RpcErrorCode.InternalError, message: 'Internal error', data: { correlationId } },
    unexpected: true,
  };
}
