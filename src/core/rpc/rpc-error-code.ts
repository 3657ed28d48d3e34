/** Every JSON-RPC error code the gateway sends (the contract in DESIGN.md). */
export enum RpcErrorCode {
  ParseError = -32700,
  InvalidRequest = -32600,
  MethodNotFound = -32601,
  InvalidParams = -32602,
  InternalError = -32603,
  Unauthenticated = -32001,
  Forbidden = -32003,
  NotFound = -32004,
  RateLimited = -32005,
  Conflict = -32009,
  AgentFailed = -32010,
  ToolFailed = -32011,
  /** A token budget is spent (`data: { budget, used, limit, resetAt? }`). */
  BudgetExceeded = -32012,
  /** A store the call needs (PostgreSQL, Redis) is unreachable: retry, here or elsewhere. */
  Unavailable = -32013,
  /** The client cancelled the call with `$/cancelRequest` (LSP's RequestCancelled). */
  RequestCancelled = -32800,
}
