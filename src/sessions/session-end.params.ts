import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IsSessionKey } from './session-key.validators.js';

export class SessionEndParams {
  @IsSessionKey()
  sessionKey: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}
