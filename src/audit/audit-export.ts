import { GENESIS_HASH } from '../core/audit/chain-hash.js';
import type { AuditChainReader } from './audit-chain.reader.js';

export interface AuditExportOptions {
  /** ISO 8601: only links at or after this time (each chain then starts at its first such link). */
  since?: string;
  /** One session's chain only (and not the security log). */
  sessionKey?: string;
}

/**
 * Writes the chains as JSON Lines an auditor can verify offline (scripts/verify-audit-export.mjs):
 * one line per link, with its content, the hash stored for it and `prev`, the hash stored for
 * the link before it (the genesis value for seq 1), so that an export starting mid-chain
 * (`since`) still checks. Session events carry `"chain":"session"`, the security log's records
 * `"chain":"security"`. Returns the number of lines.
 */
export async function exportAudit(
  reader: AuditChainReader,
  options: AuditExportOptions,
  write: (line: string) => void | Promise<void>,
): Promise<number> {
  let lines = 0;
  const sessions = options.sessionKey
    ? [await reader.session(options.sessionKey)].filter((s) => s !== undefined)
    : reader.sessions();
  for await (const { sessionKey } of sessions) {
    const first = options.since ? await reader.firstSeqSince(sessionKey, options.since) : 1;
    if (first === undefined) continue;
    let prev =
      first <= 1 ? GENESIS_HASH : ((await reader.sessionEventHash(sessionKey, first - 1)) ?? null);
    for await (const event of reader.sessionEvents(sessionKey, first - 1)) {
      await write(
        JSON.stringify({
          chain: 'session',
          sessionKey,
          seq: event.seq,
          type: event.type,
          at: event.at,
          data: JSON.parse(event.data) as unknown,
          prev,
          hash: event.hash,
        }),
      );
      prev = event.hash;
      lines++;
    }
  }
  if (options.sessionKey) return lines;
  const first = options.since ? await reader.firstAuditSeqSince(options.since) : 1;
  if (first === undefined) return lines;
  let prev = first <= 1 ? GENESIS_HASH : ((await reader.auditRecordHash(first - 1)) ?? null);
  for await (const record of reader.auditRecords(first - 1)) {
    await write(
      JSON.stringify({
        chain: 'security',
        ...record,
        detail: record.detail === null ? null : (JSON.parse(record.detail) as unknown),
        prev,
      }),
    );
    prev = record.hash;
    lines++;
  }
  return lines;
}
