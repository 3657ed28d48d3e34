import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AuditChainHeadEntity } from './audit-chain-head.entity.js';
import { AuditEventEntity } from './audit-event.entity.js';
import { SecurityAuditLog } from './security-audit.log.js';

/** The security audit trail, available to every module that records a security-relevant act. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditEventEntity, AuditChainHeadEntity])],
  providers: [SecurityAuditLog],
  exports: [SecurityAuditLog],
})
export class AuditModule {}
