import { Type } from 'class-transformer';
import {
  IsOptional,
  IsString,
  MinLength,
  ValidateNested,
} from '../validation/class-validator.parts.js';
import { JwtConfig } from './jwt-config.js';

export class AuthConfig {
  @ValidateNested()
  @Type(() => JwtConfig)
  jwt: JwtConfig = new JwtConfig();

  /** Key for secrets at rest (environment only: OPENCLAW_ENCRYPTION_KEY). */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: '$property must be at least 32 bytes' })
  encryptionKey?: string;
}
