import { DiscoveryService } from '@nestjs/core';

/**
 * Marks a Nest provider as an agent: the provider instance implements `Agent`. The
 * AgentRegistry finds it at boot in any module; a duplicate id stops the boot.
 */
export const GatewayAgent = DiscoveryService.createDecorator<void>();
