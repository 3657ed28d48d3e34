import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { isPrototypeKey } from '../config/prototype-key.js';
import { RpcErrorCode } from './rpc-error-code.js';
import { RpcException } from './rpc.exception.js';

export interface ParamViolation {
  path: string;
  message: string;
}

/** Deepest nesting accepted in params: class-transformer recurses, so depth must be bounded first. */
export const MAX_PARAMS_DEPTH = 32;

/**
 * Refuses params nested deeper than MAX_PARAMS_DEPTH or holding a prototype name as a key, before
 * anything recursive runs. Iterative, so a 10,000-deep document cannot overflow the stack here.
 */
function checkShape(raw: object): ParamViolation | undefined {
  const stack: Array<{ value: object; depth: number; root: string }> = [
    { value: raw, depth: 1, root: '' },
  ];
  while (stack.length) {
    const { value, depth, root } = stack.pop()!;
    const keys = Array.isArray(value) ? [] : Object.keys(value);
    for (const key of keys) {
      if (isPrototypeKey(key)) {
        return { path: root || key, message: `the key "${key}" is not accepted` };
      }
    }
    const children = Array.isArray(value)
      ? (value as unknown[])
      : keys.map((key) => (value as Record<string, unknown>)[key]);
    for (let i = 0; i < children.length; i++) {
      const child = children[i];
      if (typeof child !== 'object' || child === null) continue;
      // Violations name only the top-level property, so a reply never echoes a deep path.
      const path = root || (Array.isArray(value) ? String(i) : keys[i]);
      if (depth >= MAX_PARAMS_DEPTH) {
        return { path, message: `must not be nested deeper than ${MAX_PARAMS_DEPTH} levels` };
      }
      stack.push({ value: child, depth: depth + 1, root: path });
    }
  }
  return undefined;
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
 * violation. Params go by name: an array (by position) is refused unless it is empty. Too deep a
 * document, or a prototype name as a key, is refused before class-transformer sees it.
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
  const shape = checkShape(raw);
  if (shape) {
    throw new RpcException(RpcErrorCode.InvalidParams, 'Invalid params', { violations: [shape] });
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
