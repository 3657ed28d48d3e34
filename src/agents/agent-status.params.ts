import { IsString, MaxLength, MinLength } from '../core/validation/class-validator.parts.js';
import type { AgentStatusInput } from './agent.types.js';

export class AgentStatusParams implements AgentStatusInput {
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  agentId: string;
}
