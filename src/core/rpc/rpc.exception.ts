import type { JsonRpcErrorObject } from './json-rpc.types.js';
import { RpcErrorCode } from './rpc-error-code.js';

/** An error that is already in JSON-RPC terms; what the client sees is exactly this. */
export class RpcException extends Error {
  constructor(
    readonly code: RpcErrorCode,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'RpcException';
  }

  toErrorObject(): JsonRpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}
