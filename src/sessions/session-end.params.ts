import { IsOptional, IsString, MaxLength } from '../core/validation/class-validator.parts.js';
import { IsSessionKey } from './session-key.validators.js';
import type { SessionEndInput } from './session-api.types.js';

export class SessionEndParams implements SessionEndInput {
  @IsSessionKey()
  sessionKey: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}
