import type { ErrorObject } from 'ajv';
import type { ValidationError } from 'class-validator';

/**
 * One reason input was refused, the shape every validator in the gateway reports: JSON-RPC
 * params and tool arguments (`-32602`, `data.violations`), and configuration at boot.
 */
export interface Violation {
  /** Dotted path to the culprit (`metadata`, `rateLimit.client.limit`); '' for the whole input. */
  path: string;
  message: string;
  /** The refused value, for boot-time messages only: never sent to a client. */
  value?: unknown;
}

/** ajv's errors as violations: JSON-pointer paths become dotted ones, pointing at the culprit. */
export function violationsFromAjv(errors: readonly ErrorObject[], prefix = ''): Violation[] {
  return errors.map((error) => {
    const segments = error.instancePath
      .split('/')
      .slice(1)
      .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'required') segments.push(String(params.missingProperty));
    if (error.keyword === 'additionalProperties') segments.push(String(params.additionalProperty));
    const message =
      error.keyword === 'additionalProperties'
        ? 'property should not exist'
        : (error.message ?? 'is invalid');
    const path = segments.join('.');
    return { path: prefix && path ? `${prefix}.${path}` : prefix || path, message };
  });
}

/**
 * class-validator's error tree as violations, children included. Its messages start with the
 * property's name ("limit must be an integer"); the path says that already.
 */
export function violationsFromClassValidator(
  errors: readonly ValidationError[],
  prefix = '',
): Violation[] {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const own = [...new Set(Object.values(error.constraints ?? {}))].map((message) => ({
      path,
      message: message.startsWith(`${error.property} `)
        ? message.slice(error.property.length + 1)
        : message,
      value: error.value as unknown,
    }));
    return [...own, ...violationsFromClassValidator(error.children ?? [], path)];
  });
}

/** Violations as a client receives them: no values, one entry per path and message. */
export function publicViolations(violations: readonly Violation[]): Violation[] {
  return violations.map(({ path, message }) => ({ path, message }));
}

/**
 * One line per path for boot-time errors: "path: message; message, got <value>". `showValue`
 * false keeps a secret out of the line.
 */
export function describeViolations(
  violations: readonly Violation[],
  options: { label?: (path: string) => string; showValue?: (path: string) => boolean } = {},
): string[] {
  const byPath = new Map<string, Violation[]>();
  for (const violation of violations) {
    const list = byPath.get(violation.path) ?? [];
    list.push(violation);
    byPath.set(violation.path, list);
  }
  return [...byPath].map(([path, list]) => {
    const where = options.label?.(path) ?? path;
    const got =
      options.showValue?.(path) === false
        ? ''
        : `, got ${JSON.stringify(list[0].value) ?? 'nothing'}`;
    return `${where}: ${list.map((v) => v.message).join('; ')}${got}`;
  });
}
