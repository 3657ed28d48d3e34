import { Type } from 'class-transformer';
import { IsIn, ValidateNested } from '../validation/class-validator.parts.js';
import { LimitConfig } from './limit-config.js';

export class RateLimitConfig {
  @ValidateNested()
  @Type(() => LimitConfig)
  client: LimitConfig = LimitConfig.of(60, 60_000);

  @ValidateNested()
  @Type(() => LimitConfig)
  session: LimitConfig = LimitConfig.of(30, 60_000);

  /** Failed authentications per client IP (HTTP and WS upgrades); beyond it they get 429. */
  @ValidateNested()
  @Type(() => LimitConfig)
  authFailures: LimitConfig = LimitConfig.of(30, 60_000);

  /** What happens to calls while the shared store (Redis) is unreachable. */
  @IsIn(['open', 'closed'])
  onStoreFailure: 'open' | 'closed' = 'closed';
}
