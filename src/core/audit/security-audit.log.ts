import { Injectable, Logger, type OnModuleDestroy, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { toPendingRecord } from './security-audit.record.js';
import { SecurityAuditWriter, type PendingAuditRecord } from './security-audit.writer.js';

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

/** Failed authentications are counted per (action, ip, subject, target) over this window. */
const AGGREGATE_WINDOW_MS = 60_000;
/** Distinct aggregation keys per window; beyond, one catch-all record (ip `*`) counts the rest. */
const MAX_AGGREGATES = 1_000;
/** Records waiting for their batch; beyond, records are dropped and counted (`audit.dropped`). */
const MAX_QUEUED = 10_000;
/** How long a record waits for others to share its commit. */
const BATCH_DELAY_MS = 50;
const MAX_BATCH = 500;

interface Aggregate {
  entry: SecurityAuditEntry;
  at: string;
  count: number;
}

/**
 * The security audit trail. Callers record and go on: records are written in the background, in
 * batches, to `audit_events` (a hash chain, see SecurityAuditWriter), and a failure to write is
 * logged, never thrown into the act it describes. Failed authentications (`auth.*` not `ok`)
 * are aggregated, one record per key and minute with a count, so that a flood of bad tokens
 * cannot turn into a flood of writes.
 */
@Injectable()
export class SecurityAuditLog implements OnModuleDestroy {
  private readonly logger = new Logger('SecurityAuditLog');
  private readonly writer?: SecurityAuditWriter;
  private readonly aggregates = new Map<string, Aggregate>();
  private aggregateTimer?: NodeJS.Timeout;
  private queue: PendingAuditRecord[] = [];
  private dropped = 0;
  private batchTimer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(@Optional() dataSource?: DataSource) {
    if (dataSource) this.writer = new SecurityAuditWriter(dataSource);
  }

  record(entry: SecurityAuditEntry): void {
    if (!this.writer) return;
    try {
      if (entry.action.startsWith('auth.') && entry.outcome !== 'ok') this.aggregate(entry);
      else this.enqueue(toPendingRecord(entry, new Date().toISOString()));
    } catch (error) {
      this.logger.warn(`an audit record was not taken: ${(error as Error).message}`);
    }
  }

  /** Writes everything recorded so far, aggregates included; resolves once it is written. */
  async flush(): Promise<void> {
    this.closeAggregates();
    this.scheduleBatch(0);
    while (this.queue.length > 0 || this.batchTimer) {
      if (this.batchTimer) {
        clearTimeout(this.batchTimer);
        this.batchTimer = undefined;
        this.writeBatch();
      }
      await this.writing;
    }
    await this.writing;
  }

  async onModuleDestroy(): Promise<void> {
    await this.flush();
  }

  private aggregate(entry: SecurityAuditEntry): void {
    let key = [entry.action, entry.outcome, entry.ip, entry.subject, entry.target].join('\u0000');
    if (!this.aggregates.has(key) && this.aggregates.size >= MAX_AGGREGATES) {
      entry = { action: entry.action, outcome: entry.outcome, ip: '*' };
      key = `*\u0000${entry.action}`;
    }
    const current = this.aggregates.get(key);
    if (current) current.count++;
    else this.aggregates.set(key, { entry, at: new Date().toISOString(), count: 1 });
    this.aggregateTimer ??= setTimeout(() => this.closeAggregates(), AGGREGATE_WINDOW_MS).unref();
  }

  private closeAggregates(): void {
    clearTimeout(this.aggregateTimer);
    this.aggregateTimer = undefined;
    for (const { entry, at, count } of this.aggregates.values()) {
      this.enqueue(toPendingRecord(entry, at, count));
    }
    this.aggregates.clear();
  }

  private enqueue(record: PendingAuditRecord): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.dropped++;
      return;
    }
    this.queue.push(record);
    this.scheduleBatch(this.queue.length >= MAX_BATCH ? 0 : BATCH_DELAY_MS);
  }

  private scheduleBatch(delayMs: number): void {
    if (this.batchTimer || this.queue.length === 0) return;
    this.batchTimer = setTimeout(() => {
      this.batchTimer = undefined;
      this.writeBatch();
    }, delayMs);
  }

  /** Takes a batch off the queue and writes it after the batch before it. */
  private writeBatch(): void {
    if (this.dropped > 0) {
      this.queue.push(
        toPendingRecord(
          { action: 'audit.dropped', outcome: 'failed' },
          new Date().toISOString(),
          this.dropped,
        ),
      );
      this.dropped = 0;
    }
    const batch = this.queue.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    this.writing = this.writing
      .then(() => this.writer?.append(batch))
      .catch((error: unknown) => {
        this.logger.error(
          `${batch.length} security audit record(s) could not be written: ${(error as Error).message}`,
        );
      })
      .finally(() => this.scheduleBatch(0));
  }
}
