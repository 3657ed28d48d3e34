import { IsString, MaxLength, MinLength } from 'class-validator';
import type { AgentStatusInput } from './agent.types.js';

export class AgentStatusParams implements AgentStatusInput {
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  agentId: string;
}
