import {
  IsInt,
  IsOptional,
  IsString,
  Max,
  Min,
  MinLength,
  MaxLength,
} from '../core/validation/class-validator.parts.js';
import { IsSessionKey } from './session-key.validators.js';

export class SessionsListParams {
  /** Only the sessions of this subject. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  ownerSubject?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number = 100;

  /** The last sessionKey of the previous page (sessions come newest first). */
  @IsOptional()
  @IsSessionKey()
  after?: string;
}
