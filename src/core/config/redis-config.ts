import { IsOptional, IsString, Matches } from 'class-validator';

export class RedisConfig {
  @IsOptional()
  @IsString()
  @Matches(/^rediss?:\/\//, { message: '$property must be a redis:// or rediss:// URL' })
  url?: string;
}
