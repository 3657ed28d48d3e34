import { Injectable } from '@nestjs/common';
import { RpcErrorCode } from '../core/rpc/rpc-error-code.js';
import { RpcMethod } from '../core/rpc/rpc-method.decorator.js';
import { TOKEN_TOTALS_SCHEMA } from '../usage/token-totals.schema.js';
import { TokenUsageStore } from '../usage/token-usage.store.js';
import { AgentStatusParams } from './agent-status.params.js';
import { AgentRegistry } from './agent.registry.js';
import type { AgentInfo, AgentStatus } from './agent.types.js';

const AGENT_SCHEMA = {
  type: 'object',
  required: ['id', 'name', 'description', 'provider'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    provider: { type: 'string' },
    model: { type: 'string' },
  },
};

const AGENT_STATUS_SCHEMA = {
  type: 'object',
  required: ['agentId', 'state', 'activeRuns', 'totalRuns'],
  properties: {
    agentId: { type: 'string' },
    state: { enum: ['idle', 'busy', 'unavailable'] },
    activeRuns: { type: 'integer' },
    totalRuns: { type: 'integer' },
    lastError: { type: 'string' },
    lastRunAt: { type: 'string', format: 'date-time' },
    usage: TOKEN_TOTALS_SCHEMA,
  },
};

@Injectable()
export class AgentRpc {
  constructor(
    private readonly agents: AgentRegistry,
    private readonly usage: TokenUsageStore,
  ) {}

  @RpcMethod('agent.list', {
    scope: 'agents:read',
    description: 'The agents this gateway can run.',
    result: { name: 'Agent[]', schema: { type: 'array', items: AGENT_SCHEMA } },
  })
  list(): readonly AgentInfo[] {
    return this.agents.list();
  }

  @RpcMethod('agent.status', {
    scope: 'agents:read',
    params: AgentStatusParams,
    description:
      'Live state of an agent: idle, busy or unavailable, runs and last error, and the tokens its turns used (all instances).',
    result: { name: 'AgentStatus', schema: AGENT_STATUS_SCHEMA },
    errors: [RpcErrorCode.NotFound],
  })
  async status(params: AgentStatusParams): Promise<AgentStatus> {
    const status = this.agents.status(params.agentId);
    return { ...status, usage: await this.usage.lifetimeTotals(params.agentId) };
  }
}
