import { IsInt, Min } from '../validation/class-validator.parts.js';
import { duration, integer, DURATION } from './config.decorators.js';

export class LimitConfig {
  @integer()
  @IsInt()
  @Min(1)
  limit: number;

  @duration()
  @IsInt(DURATION)
  @Min(1, DURATION)
  ttl: number;

  static of(limit: number, ttl: number): LimitConfig {
    return Object.assign(new LimitConfig(), { limit, ttl });
  }
}
