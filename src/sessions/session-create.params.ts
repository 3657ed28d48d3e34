import {
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateBy,
} from '../core/validation/class-validator.parts.js';
import type { ValidationOptions } from 'class-validator';
import type { SessionCreateInput } from './session-api.types.js';

/** Largest accepted `metadata`, in characters of its JSON. */
export const MAX_METADATA_JSON_LENGTH = 16_384;

function MaxJsonLength(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxJsonLength',
      // The limit travels with the constraint, so rpc.discover can publish it.
      constraints: [max],
      validator: {
        validate: (value: unknown) => {
          try {
            return JSON.stringify(value).length <= max;
          } catch {
            return false;
          }
        },
        defaultMessage: () => `$property must be at most ${max} characters as JSON`,
      },
    },
    options,
  );
}

export class SessionCreateParams implements SessionCreateInput {
  /** The agent that answers in this session; the default agent (echo) when omitted. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  agentId?: string;

  /** Free-form data kept with the session (a title, a client reference). */
  @IsOptional()
  @IsObject()
  @MaxJsonLength(MAX_METADATA_JSON_LENGTH)
  metadata?: Record<string, unknown>;
}
