import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import type { ToolsListInput } from './tool.types.js';

export class ToolsListParams implements ToolsListInput {
  /** Only the tools this agent may call. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  agentId?: string;
}
