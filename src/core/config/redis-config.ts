import { IsOptional, IsString, Matches } from '../validation/class-validator.parts.js';

export class RedisConfig {
  @IsOptional()
  @IsString()
  @Matches(/^rediss?:\/\//, { message: '$property must be a redis:// or rediss:// URL' })
  url?: string;
}
