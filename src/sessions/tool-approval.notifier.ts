import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { EVENT_BUS, type EventBus } from '../core/events/event-bus.js';
import { hasScope } from '../core/identity/caller.js';
import { WsConnectionRegistry } from '../core/ws/ws-connection.registry.js';
import {
  APPROVAL_REQUESTED_METHOD,
  APPROVALS_TOPIC,
  TOOLS_APPROVE_SCOPE,
} from './tool-approval.types.js';

/**
 * Tells every WebSocket of this instance whose token has `tools:approve` about approval requests
 * and decisions, wherever they happened (the bus brings other instances'). A request on a
 * session the connection's subject owns is not sent while owners may not decide (four eyes).
 */
@Injectable()
export class ToolApprovalNotifier implements OnModuleInit, OnModuleDestroy {
  private stop?: () => void;

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly connections: WsConnectionRegistry,
    private readonly config: GatewayConfig,
  ) {}

  onModuleInit(): void {
    this.stop = this.bus.subscribe(APPROVALS_TOPIC, ({ method, params }) => {
      const fourEyes =
        method === APPROVAL_REQUESTED_METHOD && !this.config.approvals.ownerMayApprove;
      for (const connection of this.connections.all()) {
        const caller = connection.caller;
        if (!caller || !hasScope(caller, TOOLS_APPROVE_SCOPE)) continue;
        if (fourEyes && caller.subject === params.ownerSubject) continue;
        connection.notify(method, params);
      }
    });
  }

  onModuleDestroy(): void {
    this.stop?.();
  }
}
