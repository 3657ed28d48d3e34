import { IsString, MaxLength, MinLength } from 'class-validator';

export class AgentStatusParams {
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  agentId: string;
}
