import { canonicalJson } from '../core/audit/canonical-json.js';
import { auditRecordHash, GENESIS_HASH, sessionEventHash } from '../core/audit/chain-hash.js';
import type {
  AuditChainReader,
  ChainedAuditRecord,
  ChainedSessionEvent,
} from './audit-chain.reader.js';

/** The first fault of a chain: a link whose hash is not what its content says, or a missing seq. */
export type ChainFault =
  | { kind: 'mismatch'; seq: number; expected: string; found: string | null }
  | { kind: 'gap'; seq: number }
  | { kind: 'unreadable'; seq: number; message: string };

/** One chain's verdict: a session's (`chain` is its key) or the security log's (`security`). */
export interface ChainReport {
  chain: string;
  ok: boolean;
  /** Links checked. */
  links: number;
  fault?: ChainFault;
}

/** The chain name of the security audit log in reports. */
export const SECURITY_CHAIN = 'security';

/**
 * Walks the chains and names the first fault of each: recomputes every link's hash from its
 * content and the previous link's recomputed hash (so an edited event breaks at its own seq),
 * checks that seqs run 1, 2, … with none missing (a deleted event is a gap) up to the head
 * the session row (or the audit head row) records, and that the head's hash is the last link's.
 */
export class AuditChainVerifier {
  constructor(private readonly reader: AuditChainReader) {}

  async verifySession(sessionKey: string): Promise<ChainReport | undefined> {
    const head = await this.reader.session(sessionKey);
    if (!head) return undefined;
    return this.walk(sessionKey, head, this.reader.sessionEvents(sessionKey), sessionLink);
  }

  async *verifyAllSessions(): AsyncGenerator<ChainReport> {
    for await (const head of this.reader.sessions()) {
      yield await this.walk(
        head.sessionKey,
        head,
        this.reader.sessionEvents(head.sessionKey),
        sessionLink,
      );
    }
  }

  async verifySecurityLog(): Promise<ChainReport> {
    const head = await this.reader.auditHead();
    return this.walk(SECURITY_CHAIN, head, this.reader.auditRecords(), auditLink);
  }

  private async walk<T extends { seq: number; hash: string | null }>(
    chain: string,
    head: { lastSeq: number; lastHash: string | null },
    links: AsyncIterable<T>,
    hashOf: (prev: string, link: T) => string,
  ): Promise<ChainReport> {
    let prev = GENESIS_HASH;
    let expectedSeq = 1;
    let count = 0;
    const fail = (fault: ChainFault): ChainReport => ({ chain, ok: false, links: count, fault });
    for await (const link of links) {
      if (link.seq !== expectedSeq) return fail({ kind: 'gap', seq: expectedSeq });
      let expected: string;
      try {
        expected = hashOf(prev, link);
      } catch (error) {
        return fail({ kind: 'unreadable', seq: link.seq, message: (error as Error).message });
      }
      if (expected !== link.hash) {
        return fail({ kind: 'mismatch', seq: link.seq, expected, found: link.hash });
      }
      prev = expected;
      expectedSeq++;
      count++;
    }
    if (expectedSeq <= head.lastSeq) return fail({ kind: 'gap', seq: expectedSeq });
    if (count > 0 && head.lastHash !== prev) {
      return fail({ kind: 'mismatch', seq: expectedSeq - 1, expected: prev, found: head.lastHash });
    }
    return { chain, ok: true, links: count };
  }
}

function sessionLink(prev: string, event: ChainedSessionEvent): string {
  return sessionEventHash(prev, {
    sessionKey: event.sessionKey,
    seq: event.seq,
    type: event.type,
    at: event.at,
    dataJson: canonicalJson(JSON.parse(event.data)),
  });
}

function auditLink(prev: string, record: ChainedAuditRecord): string {
  return auditRecordHash(prev, {
    seq: record.seq,
    at: record.at,
    action: record.action,
    outcome: record.outcome,
    subject: record.subject,
    target: record.target,
    ip: record.ip,
    count: record.count,
    detail: record.detail === null ? null : (JSON.parse(record.detail) as Record<string, unknown>),
  });
}

/** A report as one line for the CLI. */
export function describeReport(report: ChainReport): string {
  const { fault } = report;
  if (!fault) return `ok      ${report.chain} (${report.links} links)`;
  switch (fault.kind) {
    case 'gap':
      return `BROKEN  ${report.chain} at seq ${fault.seq}: missing (deleted?) link`;
    case 'mismatch':
      return `BROKEN  ${report.chain} at seq ${fault.seq}: expected ${fault.expected}, found ${fault.found ?? 'no hash'}`;
    case 'unreadable':
      return `BROKEN  ${report.chain} at seq ${fault.seq}: unreadable (${fault.message})`;
  }
}
