import { canonicalJson } from './canonical-json.js';
import type { PendingAuditRecord } from './security-audit.writer.js';

/** A `detail` longer than this (as JSON) is replaced by a note saying so. */
const MAX_DETAIL_CHARS = 4_096;
/** Names of detail members never written, whatever a caller passes: secrets have no place here. */
const SECRET_NAME = /token|secret|password|authorization|cookie|credential|api[-_]?key/i;

/** The shape a caller's entry takes in the log: bounded, and scrubbed of anything secret-named. */
export function toPendingRecord(
  entry: {
    action: string;
    outcome: string;
    subject?: string;
    target?: string;
    ip?: string;
    detail?: Record<string, unknown>;
  },
  at: string,
  count = 1,
): PendingAuditRecord {
  return {
    at,
    action: clip(entry.action, 64) ?? 'unknown',
    outcome: clip(entry.outcome, 16) ?? 'unknown',
    subject: clip(entry.subject, 255),
    target: clip(entry.target, 255),
    ip: clip(entry.ip, 64),
    count,
    detail: entry.detail === undefined ? null : scrubDetail(entry.detail),
  };
}

function clip(value: unknown, max: number): string | null {
  if (typeof value !== 'string' || value.length === 0) return null;
  return value.length > max ? value.slice(0, max) : value;
}

function scrubDetail(detail: Record<string, unknown>): Record<string, unknown> {
  const scrubbed = scrub(detail) as Record<string, unknown>;
  const json = canonicalJson(scrubbed);
  return json.length > MAX_DETAIL_CHARS ? { truncated: true, chars: json.length } : scrubbed;
}

function scrub(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[deep]';
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(value as Record<string, unknown>)) {
    out[name] = SECRET_NAME.test(name) ? '[redacted]' : scrub(member, depth + 1);
  }
  return out;
}
