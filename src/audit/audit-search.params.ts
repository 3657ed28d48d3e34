import {
  IsInt,
  Matches,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from '../core/validation/class-validator.parts.js';

export const MAX_AUDIT_PAGE = 200;

/** An ISO 8601 date or UTC/offset date-time, as the records' `at` is compared with it. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** `audit.search`: security records, newest first; filters combine (AND). */
export class AuditSearchParams {
  /** Records whose subject is exactly this. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  subject?: string;

  /** Records about this session (its key as the target, or in the detail). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  sessionKey?: string;

  /** ISO 8601: records at or after. */
  @IsOptional()
  @IsString()
  @Matches(ISO_TIME)
  since?: string;

  /** ISO 8601: records before. */
  @IsOptional()
  @IsString()
  @Matches(ISO_TIME)
  until?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_AUDIT_PAGE)
  limit?: number = 50;

  /** Paging: records with a smaller seq (the previous page's last seq). */
  @IsOptional()
  @IsInt()
  @Min(1)
  before?: number;
}
