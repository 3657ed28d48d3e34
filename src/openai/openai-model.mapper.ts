import type { AgentInfo } from '../agents/agent.types.js';

/** An agent as OpenAI's model objects show it: `id` is what `model` names in a request. */
export interface OpenAiModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  /** Beyond OpenAI's fields: what `agent.list` says of the agent. */
  name: string;
  description: string;
  provider: string;
}

export interface OpenAiModelList {
  object: 'list';
  data: OpenAiModel[];
}

/** `created` is when this gateway started: agents have no creation date of their own. */
export function toOpenAiModel(agent: AgentInfo, created: number): OpenAiModel {
  return {
    id: agent.id,
    object: 'model',
    created,
    owned_by: 'openclaw-gateway',
    name: agent.name,
    description: agent.description,
    provider: agent.provider,
  };
}
