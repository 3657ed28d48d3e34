import { IsInt, IsISO8601, IsOptional, Max, Min } from 'class-validator';

export class UsageSummaryParams {
  /** ISO 8601: the first bucket holds this time; default 24 hours ago. */
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;

  /** Bucket width in milliseconds: from a minute to 30 days; default an hour. */
  @IsOptional()
  @IsInt()
  @Min(60_000)
  @Max(30 * 86_400_000)
  bucket?: number = 3_600_000;
}
