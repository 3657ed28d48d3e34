import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

export class ToolsListParams {
  /** Only the tools this agent may call. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  agentId?: string;
}
