import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { UsageModule } from '../usage/usage.module.js';
import { AgentRpc } from './agent.rpc.js';
import { AgentRegistry } from './agent.registry.js';

/** Agents: the registry (built-ins, config, `@GatewayAgent()` providers) and `agent.*` methods. */
@Module({
  imports: [DiscoveryModule, UsageModule],
  providers: [AgentRegistry, AgentRpc],
  exports: [AgentRegistry],
})
export class AgentsModule {}
