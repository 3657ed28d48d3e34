import {
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from '../core/validation/class-validator.parts.js';

/** `audit.verify`: one session's chain, or (no key) the security log's. */
export class AuditVerifyParams {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  sessionKey?: string;
}
