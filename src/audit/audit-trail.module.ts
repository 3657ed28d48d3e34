import { Module } from '@nestjs/common';

import { AuditRpc } from './audit.rpc.js';
import { AuditTrailService } from './audit-trail.service.js';

/**
 * The audit trail's read side: `audit.search` and `audit.verify` (the security log is written by
 * core's SecurityAuditLog, session events are chained by the event store's writers).
 */
@Module({
  providers: [AuditTrailService, AuditRpc],
})
export class AuditTrailModule {}
