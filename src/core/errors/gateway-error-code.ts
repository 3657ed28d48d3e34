/** Domain error codes that services throw; one mapper turns them into JSON-RPC errors. */
export enum GatewayErrorCode {
  INVALID_INPUT = 'INVALID_INPUT',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  RATE_LIMITED = 'RATE_LIMITED',
  CONFLICT = 'CONFLICT',
  AGENT_FAILED = 'AGENT_FAILED',
  TOOL_FAILED = 'TOOL_FAILED',
  /** The client cancelled the call (`$/cancelRequest`). */
  REQUEST_CANCELLED = 'REQUEST_CANCELLED',
  BUDGET_EXCEEDED = 'BUDGET_EXCEEDED',
}
