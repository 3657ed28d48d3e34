import { createHash } from 'node:crypto';

import { canonicalJson } from './canonical-json.js';

/** The `prev` of a chain's first link (seq 1): 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** SHA-256 of a string's UTF-8 bytes, as 64 lowercase hex digits. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The hash of a session event: SHA-256 over the canonical JSON (RFC 8785) of
 * `{at, data, prev, seq, sessionKey, type}`, `prev` being the hash of the session's event
 * `seq - 1` (GENESIS_HASH for seq 1). `dataJson` is the event's data already in canonical JSON,
 * as the event store writes it, so that the text is built by splicing, not re-serialized.
 */
export function sessionEventHash(
  prev: string,
  event: { sessionKey: string; seq: number; type: string; at: string; dataJson: string },
): string {
  return sha256Hex(sessionEventHashInput(prev, event));
}

/** The exact text hashed for a session event (see sessionEventHash). */
export function sessionEventHashInput(
  prev: string,
  event: { sessionKey: string; seq: number; type: string; at: string; dataJson: string },
): string {
  return (
    `{"at":${JSON.stringify(event.at)},"data":${event.dataJson},"prev":"${prev}",` +
    `"seq":${event.seq},"sessionKey":${JSON.stringify(event.sessionKey)},"type":${JSON.stringify(event.type)}}`
  );
}

/** A security audit record's fields as they are hashed (absent ones are null). */
export interface AuditRecordFields {
  seq: number;
  at: string;
  action: string;
  outcome: string;
  subject: string | null;
  target: string | null;
  ip: string | null;
  count: number;
  detail: Record<string, unknown> | null;
}

/**
 * The hash of a security audit record: SHA-256 over the canonical JSON of
 * `{action, at, count, detail, ip, outcome, prev, seq, subject, target}`.
 */
export function auditRecordHash(prev: string, record: AuditRecordFields): string {
  return sha256Hex(canonicalJson({ ...record, prev }));
}
