import type { SessionRecord, StoredEvent } from './session.types.js';

/** The turn lease an append must still hold: its owner and fencing token. */
export interface AppendFence {
  owner: string;
  token: number;
  /** The turn's last append: free the lease in the same statement. */
  release?: boolean;
}

/** An event ready to store: validated, its data serialized once. */
export interface PendingEvent {
  type: string;
  data: Record<string, unknown>;
  json: string;
  idempotencyKey: string | null;
}

/** Appends events after the session's last one, under the checks the caller asked for. */
export interface AppendRequest {
  kind: 'append';
  sessionKey: string;
  events: PendingEvent[];
  expectActive: boolean;
  fence?: AppendFence;
  /** One of the events is `session.ended`: the session ends in the same statement. */
  ends: boolean;
}

/** Creates a session and its first event, `session.created` (seq 1). */
export interface CreateRequest {
  kind: 'create';
  sessionKey: string;
  ownerSubject: string;
  agentId: string;
  metadata: Record<string, unknown>;
}

export type WriteRequest = AppendRequest | CreateRequest;

export interface CreatedSession {
  session: SessionRecord;
  event: StoredEvent;
}

export type WriteResult = StoredEvent[] | CreatedSession;

export type Outcome = { ok: true; value: WriteResult } | { ok: false; error: unknown };

/**
 * One engine's way of committing a batch of writes. Each request succeeds or fails alone; a
 * request's outcome is known only once what it wrote has committed.
 */
export interface EventLogWriter {
  /** Batches that may be in flight at once; a session's writes always use the same lane. */
  readonly lanes: number;
  commit(requests: readonly WriteRequest[]): Promise<Outcome[]>;
  close(): Promise<void>;
}

/** The events an append stored, numbered from `firstSeq`. */
export function storedEvents(
  sessionKey: string,
  events: readonly PendingEvent[],
  firstSeq: number,
  at: string,
): StoredEvent[] {
  return events.map((e, i) => ({
    sessionKey,
    seq: firstSeq + i,
    type: e.type,
    at,
    data: e.data,
    idempotencyKey: e.idempotencyKey,
  }));
}

/** What a create stored: the session row and its `session.created` event. */
export function createdSession(request: CreateRequest, at: string): CreatedSession {
  const { sessionKey, ownerSubject, agentId, metadata } = request;
  return {
    session: {
      sessionKey,
      ownerSubject,
      agentId,
      metadata,
      status: 'active',
      lastSeq: 1,
      createdAt: at,
      endedAt: null,
    },
    event: {
      sessionKey,
      seq: 1,
      type: 'session.created',
      at,
      data: { agentId, metadata },
      idempotencyKey: null,
    },
  };
}
