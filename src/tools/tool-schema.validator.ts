import type { Logger } from '@nestjs/common';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { jsonBytes } from '../core/validation/json-bytes.js';
import { violationsFromAjv } from '../core/validation/violation.js';
import { ToolFailedException, ToolInvalidArgumentsException } from './tool.exception.js';
import type { JsonSchema, ToolOutput, ToolResult } from './tool.types.js';

// ajv-formats is CommonJS with a default export; under NodeNext the callable sits on .default.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** No coercion, no defaults, no removal: the tool gets exactly what the caller sent. */
function toolAjv(validateSchema: boolean): Ajv {
  return addFormats(
    new Ajv({
      allErrors: true,
      coerceTypes: false,
      useDefaults: false,
      removeAdditional: false,
      strict: false,
      validateSchema,
    }),
  );
}

/**
 * The registry's schema checks: tools' schemas compiled once, at registration; a call's
 * arguments checked before the tool runs, its result checked after.
 */
export class ToolSchemaValidator {
  private readonly ajv = toolAjv(true);

  /**
   * For the built-in tools' own schemas, which their specs check: without checking them against
   * the JSON Schema meta-schema, whose compilation was 20 ms of every boot.
   */
  private readonly trusted = toolAjv(false);

  /** Warnings (invalid results) are written by the registry's logger. */
  constructor(private readonly logger: Logger) {}

  /** Compiles a tool's schema; `trusted` only for the gateway's own built-in tools. */
  compile(name: string, which: string, schema: JsonSchema, trusted = false): ValidateFunction {
    // Foreign schemas (MCP servers) name other drafts in $schema; the keywords we check are common.
    const rest = { ...schema };
    delete rest.$schema;
    try {
      return (trusted ? this.trusted : this.ajv).compile(rest);
    } catch (error) {
      throw new Error(`Tool "${name}": invalid ${which}: ${(error as Error).message}`);
    }
  }

  /** Forgets a compiled schema (its tool was unregistered). */
  remove(validate: ValidateFunction): void {
    this.ajv.removeSchema(validate.schema);
    this.trusted.removeSchema(validate.schema);
  }

  checkArguments(
    name: string,
    validateInput: ValidateFunction,
    args: unknown,
    maxBytes?: number,
  ): Record<string, unknown> {
    const value = args === undefined ? {} : args;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ToolInvalidArgumentsException(name, [
        { path: '', message: 'arguments must be an object' },
      ]);
    }
    if (maxBytes !== undefined) {
      const size = jsonBytes(value);
      if (size > maxBytes) {
        throw new ToolInvalidArgumentsException(name, [
          { path: '', message: `arguments too large (${size} bytes > ${maxBytes})` },
        ]);
      }
    }
    if (!validateInput(value)) {
      throw new ToolInvalidArgumentsException(name, violationsFromAjv(validateInput.errors ?? []));
    }
    return value as Record<string, unknown>;
  }

  checkOutput(
    name: string,
    validateOutput: ValidateFunction | undefined,
    output: unknown,
  ): Omit<ToolResult, 'durationMs'> {
    const invalid = (why: string): ToolFailedException => {
      this.logger.warn(`Tool "${name}" returned an invalid result: ${why}`);
      return new ToolFailedException(
        name,
        `Tool "${name}" returned an invalid result`,
        'invalid-result',
      );
    };
    if (typeof output !== 'object' || output === null) throw invalid('not an object');
    const { content, structuredContent, isError } = output as Partial<ToolOutput>;
    if (!Array.isArray(content)) throw invalid('content is not an array');
    if (isError !== undefined && typeof isError !== 'boolean')
      throw invalid('isError is not a boolean');
    if (
      structuredContent !== undefined &&
      (typeof structuredContent !== 'object' || structuredContent === null)
    ) {
      throw invalid('structuredContent is not an object');
    }
    const failed = isError === true;
    if (!failed && validateOutput) {
      if (structuredContent === undefined)
        throw invalid('structuredContent missing but outputSchema declared');
      if (!validateOutput(structuredContent)) {
        throw invalid(this.ajv.errorsText(validateOutput.errors));
      }
    }
    return structuredContent === undefined
      ? { content, isError: failed }
      : { content, structuredContent, isError: failed };
  }
}
