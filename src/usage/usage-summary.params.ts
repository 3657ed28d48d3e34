import {
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
} from '../core/validation/class-validator.parts.js';

export class UsageSummaryParams {
  /** ISO 8601: the first bucket holds this time; default 24 hours ago. */
  @IsOptional()
  @IsString()
  @Matches(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/, {
    message: '$property must be an ISO 8601 date-time such as 2026-01-01T00:00:00Z',
  })
  since?: string;

  /** Bucket width in milliseconds: from a minute to 30 days; default an hour. */
  @IsOptional()
  @IsInt()
  @Min(60_000)
  @Max(30 * 86_400_000)
  bucket?: number = 3_600_000;
}
