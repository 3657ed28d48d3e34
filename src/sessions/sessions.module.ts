import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentsModule } from '../agents/agents.module.js';
import { EventsModule } from '../core/events/events.module.js';
import { LiveSeriesModule } from '../core/live-series/live-series.module.js';
import { ToolsModule } from '../tools/tools.module.js';
import { UsageModule } from '../usage/usage.module.js';
import { EventPageReader } from './event-page.reader.js';
import { EventStore } from './event-store.js';
import { SessionEventsPublisher } from './session-events.publisher.js';
import { SessionSubscriptions } from './session-subscriptions.js';
import { SessionToolRunRecorder } from './session-tool-run.recorder.js';
import { SessionRpc } from './session.rpc.js';
import { SessionService } from './session.service.js';
import { SessionCancellation } from './session-cancellation.js';
import { SessionConversations } from './session-conversations.js';
import { SessionDirectory } from './session.directory.js';
import { SessionEventWriter } from './session-event.writer.js';
import { SessionLeaseStore } from './session-lease.store.js';
import { SessionReplay } from './session-replay.js';
import { SessionTurnLeases } from './session-turn.leases.js';
import { SessionTurnQueue } from './session-turn.queue.js';
import { SessionTurnRunner } from './session-turn.runner.js';
import { SessionTurnRecovery } from './session-turn.recovery.js';
import { SessionEndService } from './session-end.service.js';
import { SessionTurnCanceller } from './session-turn.canceller.js';
import { SessionTurnBudget } from './session-turn.budget.js';
import { SessionUsageHealer } from './session-usage.healer.js';
import { SessionWorkTracker } from './session-work.tracker.js';
import { SessionStreamSequencer } from './session-stream.sequencer.js';
import { SESSION_ENTITIES } from './session.entities.js';
import { WsModule } from '../core/ws/ws.module.js';
import { AuditModule } from '../core/audit/audit.module.js';
import { ToolApprovalGate } from './tool-approval.gate.js';
import { ToolApprovalNotifier } from './tool-approval.notifier.js';
import { ToolApprovalPolicy } from './tool-approval.policy.js';
import { ToolApprovalRpc } from './tool-approval.rpc.js';
import { ToolApprovalService } from './tool-approval.service.js';
import { ToolApprovalStore } from './tool-approval.store.js';

/**
 * Sessions: the event store, the service and the `session.*` methods. Its recorder plugs into
 * the tools module's ToolRunRecording, so `tools.execute { sessionKey }` records in sessions.
 * Global so that extension modules reach SessionService without importing this module.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forFeature(SESSION_ENTITIES),
    AgentsModule,
    ToolsModule,
    EventsModule,
    LiveSeriesModule,
    WsModule,
    AuditModule,
    UsageModule,
  ],
  providers: [
    EventStore,
    EventPageReader,
    SessionEventsPublisher,
    SessionSubscriptions,
    SessionDirectory,
    SessionEventWriter,
    SessionConversations,
    SessionLeaseStore,
    SessionTurnLeases,
    SessionTurnQueue,
    SessionTurnRunner,
    SessionTurnRecovery,
    SessionUsageHealer,
    SessionTurnBudget,
    SessionReplay,
    SessionWorkTracker,
    SessionCancellation,
    SessionTurnCanceller,
    SessionStreamSequencer,
    SessionEndService,
    SessionService,
    SessionRpc,
    SessionToolRunRecorder,
    ToolApprovalPolicy,
    ToolApprovalStore,
    ToolApprovalGate,
    ToolApprovalService,
    ToolApprovalNotifier,
    ToolApprovalRpc,
  ],
  exports: [SessionService],
})
export class SessionsModule {}
