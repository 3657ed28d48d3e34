import {
  IdempotencyKeyConflictError,
  LeaseLostError,
  SessionEndedError,
  SessionNotFoundError,
} from './event-store.errors.js';
import {
  createdSession,
  storedEvents,
  type AppendRequest,
  type CreateRequest,
  type EventLogWriter,
  type Outcome,
  type WriteRequest,
} from './event-write.types.js';
import { canonicalJson } from '../core/audit/canonical-json.js';
import { GENESIS_HASH, sessionEventHash } from '../core/audit/chain-hash.js';
import { APPEND_SQL, CREATE_SQL } from './postgres-event.statements.js';

/**
 * PostgreSQL statements in flight at once. One at a time left the server idle between batches;
 * each session always uses the same lane, so its writes stay in order.
 */
const LANES = 4;
/** Deadlock (two instances' batches locking sessions in opposite orders) or serialization failure. */
const RETRYABLE_CODES = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 3;

/** The part of pg's Pool this writer uses. */
export interface PgQueryable {
  query(config: {
    name: string;
    text: string;
    values: unknown[];
  }): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/** A row of the append statement: one per call, with what failed calls found. */
interface AppendRow {
  ord: string | number;
  last_seq: number | null;
  found: boolean;
  status: string | null;
  lease_token: string | number | null;
  used_key: string | null;
}

/**
 * The PostgreSQL append path: a batch is ONE statement (one round trip, one commit) that bumps
 * each session's seq under its checks (exists, active, the lease's fencing token, idempotency
 * keys unused) and inserts the events of the calls that passed; the calls that did not get their
 * reason back and fail alone, nothing of theirs stored. The statement updates a session once, so
 * a batch holding two calls of one session runs as rounds, in order. A statement that fails as a
 * whole (a race the checks could not see, such as another instance storing the same idempotency
 * key meanwhile) runs again one call per statement, so that only the call at fault fails.
 */
export class PostgresEventWriter implements EventLogWriter {
  readonly lanes = LANES;

  constructor(private readonly pool: PgQueryable) {}

  async commit(requests: readonly WriteRequest[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = new Array<Outcome>(requests.length);
    const creates: number[] = [];
    const rounds: number[][] = [];
    const roundOf = new Map<string, number>();
    requests.forEach((request, i) => {
      if (request.kind === 'create') {
        creates.push(i);
        return;
      }
      const round = roundOf.get(request.sessionKey) ?? 0;
      roundOf.set(request.sessionKey, round + 1);
      (rounds[round] ??= []).push(i);
    });
    if (creates.length > 0) await this.run(requests, creates, outcomes);
    for (const round of rounds) await this.run(requests, round, outcomes);
    return outcomes;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Runs calls that may share a statement; when it fails as a whole, each alone. */
  private async run(
    requests: readonly WriteRequest[],
    indexes: number[],
    outcomes: Outcome[],
  ): Promise<void> {
    const batch = indexes.map((i) => requests[i]);
    try {
      const results = await this.statement(batch);
      indexes.forEach((i, k) => (outcomes[i] = results[k]));
      return;
    } catch (error) {
      // Without the server's verdict on the statement (a connection lost) it may have committed,
      // and running it again could store it twice: its calls fail with the outage.
      if (batch.length === 1 || !isStatementError(error)) {
        indexes.forEach((i) => (outcomes[i] = { ok: false, error: mapError(requests[i], error) }));
        return;
      }
    }
    for (const i of indexes) {
      try {
        outcomes[i] = (await this.statement([requests[i]]))[0];
      } catch (error) {
        outcomes[i] = { ok: false, error: mapError(requests[i], error) };
      }
    }
  }

  /**
   * One statement for calls of distinct sessions, all creates or all appends. Retried on a
   * deadlock; calls whose row changed under the statement run again.
   */
  private async statement(batch: WriteRequest[], first = 1): Promise<Outcome[]> {
    for (let attempt = first; ; attempt++) {
      let outcomes: Outcome[];
      try {
        outcomes =
          batch[0].kind === 'create'
            ? await this.create(batch as CreateRequest[])
            : await this.append(batch as AppendRequest[]);
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
        continue;
      }
      const changed = outcomes.flatMap((o, i) =>
        !o.ok && o.error instanceof RowChangedError ? [i] : [],
      );
      if (changed.length === 0 || attempt >= MAX_ATTEMPTS) return outcomes;
      const again = await this.statement(
        changed.map((i) => batch[i]),
        attempt + 1,
      );
      changed.forEach((i, k) => (outcomes[i] = again[k]));
      return outcomes;
    }
  }

  private async create(batch: CreateRequest[]): Promise<Outcome[]> {
    const at = new Date().toISOString();
    const created = batch.map((request) => createdSession(request, at));
    // Canonical: the text stored is the text hashed.
    const data = created.map((c) => canonicalJson(c.event.data));
    await this.pool.query({
      name: 'openclaw_event_store_create',
      text: CREATE_SQL,
      values: [
        created.map((c) => c.session.sessionKey),
        created.map((c) => c.session.ownerSubject),
        created.map((c) => c.session.agentId),
        created.map((c) => JSON.stringify(c.session.metadata)),
        data,
        at,
        created.map(({ event }, i) =>
          sessionEventHash(GENESIS_HASH, { ...event, dataJson: data[i] }),
        ),
      ],
    });
    return created.map((value) => ({ ok: true, value }));
  }

  private async append(batch: AppendRequest[]): Promise<Outcome[]> {
    const at = new Date().toISOString();
    const eventOrd: number[] = [];
    const eventIndex: number[] = [];
    const types: string[] = [];
    const data: string[] = [];
    const keys: Array<string | null> = [];
    const tails: string[] = [];
    batch.forEach((request, r) => {
      const sessionKey = `,"sessionKey":${JSON.stringify(request.sessionKey)},"type":`;
      request.events.forEach((event, k) => {
        eventOrd.push(r + 1);
        eventIndex.push(k + 1);
        types.push(event.type);
        data.push(event.json);
        keys.push(event.idempotencyKey);
        tails.push(`${sessionKey}${JSON.stringify(event.type)}}`);
      });
    });
    const { rows } = await this.pool.query({
      name: 'openclaw_event_store_append',
      text: APPEND_SQL,
      values: [
        batch.map((r) => r.sessionKey),
        batch.map((r) => r.events.length),
        batch.map((r) => r.expectActive),
        batch.map((r) => r.fence?.token ?? null),
        batch.map((r) => r.fence?.release === true),
        batch.map((r) => r.ends),
        eventOrd,
        eventIndex,
        types,
        data,
        keys,
        at,
        `{"at":${JSON.stringify(at)},"data":`,
        tails,
      ],
    });
    const outcomes: Outcome[] = new Array<Outcome>(batch.length);
    for (const row of rows as unknown as AppendRow[]) {
      const r = Number(row.ord) - 1;
      const request = batch[r];
      if (row.last_seq !== null) {
        const firstSeq = Number(row.last_seq) - request.events.length + 1;
        outcomes[r] = {
          ok: true,
          value: storedEvents(request.sessionKey, request.events, firstSeq, at),
        };
      } else {
        outcomes[r] = { ok: false, error: refusal(request, row) };
      }
    }
    return outcomes;
  }
}

/**
 * Why the statement left a call out, from the session row as the statement found it. The checks
 * only ever turn one way (a session never comes back, ends once, its token only grows, keys stay
 * used), so a reason seen is the reason; none seen means the row changed under the statement,
 * and the caller's next attempt (alone) finds it.
 */
function refusal(request: AppendRequest, row: AppendRow): Error {
  const { sessionKey, fence } = request;
  if (!row.found) return new SessionNotFoundError(sessionKey);
  if (request.expectActive && row.status === 'ended') return new SessionEndedError(sessionKey);
  if (fence && Number(row.lease_token) !== fence.token) return new LeaseLostError(sessionKey);
  if (row.used_key !== null) return new IdempotencyKeyConflictError(sessionKey, row.used_key);
  return new RowChangedError(sessionKey);
}

/** The session row changed between the statement's snapshot and its update: run it again. */
class RowChangedError extends Error {
  constructor(sessionKey: string) {
    super(`session row changed during the append: ${sessionKey}`);
  }
}

/** A unique violation on the idempotency index is that call's conflict; the rest as they are. */
function mapError(request: WriteRequest, error: unknown): unknown {
  const { code, constraint } = (error ?? {}) as { code?: unknown; constraint?: unknown };
  if (
    request.kind === 'append' &&
    code === '23505' &&
    constraint === 'UQ_session_events_session_idempotency'
  ) {
    const key = request.events.find((e) => e.idempotencyKey !== null)?.idempotencyKey ?? '';
    return new IdempotencyKeyConflictError(request.sessionKey, key);
  }
  return error;
}

function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_CODES.has(code);
}

/**
 * The server answered that the statement failed (a SQLSTATE outside the connection classes): it
 * was rolled back, so running its calls again cannot store anything twice.
 */
function isStatementError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    /^[0-9A-Z]{5}$/.test(code) &&
    !code.startsWith('08') &&
    !code.startsWith('57')
  );
}
