import { Transform, Type } from 'class-transformer';
import {
  IsInt,
  IsOptional,
  Max,
  Min,
  ValidateNested,
} from '../validation/class-validator.parts.js';
import { parseDuration } from './duration.js';

const WINDOW = {
  message: '$property must be a duration from 1s to 366d, such as "1h", "1d" or milliseconds',
};

/**
 * One token budget: at most `tokens` (input + output) per window. Windows are fixed and aligned
 * to the Unix epoch in UTC (a "1d" window resets at 00:00 UTC), so every instance computes the
 * same window and the same `resetAt`. Without a window the budget never resets.
 */
export class TokenBudgetConfig {
  @Transform(
    ({ value }: { value: unknown }) =>
      typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value,
    { toClassOnly: true },
  )
  @IsInt({ message: '$property must be a whole number of tokens' })
  @Min(1, { message: '$property must be at least 1 token' })
  tokens!: number;

  @IsOptional()
  @Transform(({ value }: { value: unknown }) => parseDuration(value) ?? value, {
    toClassOnly: true,
  })
  @IsInt(WINDOW)
  @Min(1000, WINDOW)
  @Max(366 * 86_400_000, WINDOW)
  window?: number;
}

/**
 * `budgets` in openclaw.json and in an agent entry (which replaces the global one, per kind, for
 * that agent's turns): a session's total, and a subject's total per window.
 */
export class BudgetsConfig {
  @IsOptional()
  @ValidateNested()
  @Type(() => TokenBudgetConfig)
  session?: TokenBudgetConfig;

  @IsOptional()
  @ValidateNested()
  @Type(() => TokenBudgetConfig)
  subject?: TokenBudgetConfig;
}

/** How much token usage `/status` and `/metrics` show by subject. */
export class UsageConfig {
  /**
   * Subjects named in /status and given their own label in /metrics; the rest count as
   * "other", so a flood of subjects cannot grow the metrics without bound.
   */
  @Transform(
    ({ value }: { value: unknown }) =>
      typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value,
    { toClassOnly: true },
  )
  @IsInt()
  @Min(0)
  @Max(1000)
  topSubjects = 20;
}
