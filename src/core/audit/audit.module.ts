import { Global, Module } from '@nestjs/common';
import { SecurityAuditLog } from './security-audit.log.js';

/** The security audit trail, available to every module that records a security-relevant act. */
@Global()
@Module({
  providers: [SecurityAuditLog],
  exports: [SecurityAuditLog],
})
export class AuditModule {}
