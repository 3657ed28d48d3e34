import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { RpcErrorCode } from './rpc-error-code.js';
import { RpcException } from './rpc.exception.js';

export interface ParamViolation {
  path: string;
  message: string;
}

function flatten(errors: ValidationError[], prefix = ''): ParamViolation[] {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ path, message }));
    return [...own, ...flatten(error.children ?? [], path)];
  });
}

/**
 * Turns raw params into an instance of the method's params class, or throws -32602 with every
 * violation. Params go by name: an array (by position) is refused unless it is empty.
 */
export function validateParams(paramsClass: (new () => object) | undefined, raw: unknown): object {
  if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) raw = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new RpcException(RpcErrorCode.InvalidParams, 'Invalid params', {
      violations: [
        { path: '', message: 'params must be an object (this server takes params by name)' },
      ],
    });
  }
  if (!paramsClass) {
    const keys = Object.keys(raw);
    if (keys.length) {
      throw new RpcException(RpcErrorCode.InvalidParams, 'Invalid params', {
        violations: keys.map((key) => ({ path: key, message: `property ${key} should not exist` })),
      });
    }
    return {};
  }
  const instance = plainToInstance(paramsClass, raw, { enableImplicitConversion: false });
  const errors = validateSync(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
  });
  if (errors.length) {
    throw new RpcException(RpcErrorCode.InvalidParams, 'Invalid params', {
      violations: flatten(errors),
    });
  }
  return instance;
}
