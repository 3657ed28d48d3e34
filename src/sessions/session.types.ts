/** Lifecycle of a session: `ended` once a `session.ended` event is stored. */
export type SessionStatus = 'active' | 'ended';

/** A session as the event store returns it. */
export interface SessionRecord {
  sessionKey: string;
  ownerSubject: string;
  agentId: string;
  metadata: Record<string, unknown>;
  status: SessionStatus;
  /** Seq of the newest stored event (the first event, `session.created`, has seq 1). */
  lastSeq: number;
  /** ISO 8601, UTC. */
  createdAt: string;
  endedAt: string | null;
}

/** One event of a session's append-only log. */
export interface StoredEvent {
  sessionKey: string;
  seq: number;
  type: string;
  /** ISO 8601, UTC. */
  at: string;
  data: Record<string, unknown>;
  idempotencyKey?: string | null;
}

/** An event handed to `EventStore.append`; the store assigns `seq` and `at`. */
export interface NewEvent {
  type: string;
  data: Record<string, unknown>;
  idempotencyKey?: string;
  /** `data` as canonical JSON, when the caller has serialized it already (to size it). */
  json?: string;
}
