import {
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from '../core/validation/class-validator.parts.js';
import { IsSessionKey } from './session-key.validators.js';
import type { SessionMessageInput } from './session-api.types.js';

export class SessionMessageParams implements SessionMessageInput {
  @IsSessionKey()
  sessionKey: string;

  /** The user's message; its maximum length is `sessions.maxContentLength`, checked by the service. */
  @IsString()
  @IsNotEmpty()
  content: string;

  /** Sending the same key again returns the stored answer instead of running a new turn. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  idempotencyKey?: string;
}
