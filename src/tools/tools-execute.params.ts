import {
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from '../core/validation/class-validator.parts.js';
import type { ToolsExecuteInput } from './tool.types.js';

export class ToolsExecuteParams implements ToolsExecuteInput {
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  name: string;

  /** Validated against the tool's inputSchema by the ToolRegistry (default `{}`). */
  @IsOptional()
  @IsObject()
  arguments?: Record<string, unknown>;

  /** Records the call as `tool.call`/`tool.result` events of this session (which must be the caller's). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  sessionKey?: string;
}
