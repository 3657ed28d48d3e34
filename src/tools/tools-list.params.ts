import {
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from '../core/validation/class-validator.parts.js';
import type { ToolsListInput } from './tool.types.js';

export class ToolsListParams implements ToolsListInput {
  /** Only the tools this agent may call. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  agentId?: string;
}
