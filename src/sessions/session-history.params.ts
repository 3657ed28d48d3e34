import { IsInt, IsOptional, Max, Min } from '../core/validation/class-validator.parts.js';
import { IsSessionKey } from './session-key.validators.js';
import type { SessionHistoryInput } from './session-api.types.js';

export const MAX_HISTORY_LIMIT = 1000;

export class SessionHistoryParams implements SessionHistoryInput {
  @IsSessionKey()
  sessionKey: string;

  /** Events with a greater seq are returned: the last seq the client has seen. */
  @IsOptional()
  @IsInt()
  @Min(0)
  afterSeq?: number = 0;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_HISTORY_LIMIT)
  limit?: number = 100;
}
