/**
 * The PostgreSQL append path's statements, one round trip each. Calls travel as parallel arrays
 * (one element per call; events with the 1-based number of their call), so one prepared
 * statement serves every batch size.
 */

/**
 * Appends the events of calls to distinct sessions. Each session row is bumped by its call's
 * event count only when the call's checks pass (the row is locked by this UPDATE, so the fence
 * and the status are read from the very version written; the turn's last append frees the lease
 * and `session.ended` ends the session in the same UPDATE); the events of the bumped calls are
 * inserted with the seqs just reserved. One row comes back per call: its new `last_seq`, or,
 * for a call left out, what the session row and the idempotency index said.
 *
 * $1 session keys, $2 event counts, $3 expect active, $4 fencing tokens (null: unfenced),
 * $5 release the lease, $6 ends the session; events: $7 call number, $8 number in the call,
 * $9 type, $10 data, $11 idempotency key; $12 the time of the batch.
 */
export const APPEND_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::varchar[], $2::int[], $3::bool[], $4::bigint[], $5::bool[], $6::bool[])
    WITH ORDINALITY AS i(session_key, n, expect_active, fence, release, ends, ord)
),
ev AS (
  SELECT * FROM unnest($7::int[], $8::int[], $9::varchar[], $10::text[], $11::varchar[])
    AS e(ord, k, type, data, idempotency_key)
),
used AS (
  SELECT DISTINCT ON (ev.ord) ev.ord, x."idempotency_key" AS used_key
  FROM ev
  JOIN input i ON i.ord = ev.ord
  JOIN "session_events" x
    ON x."session_key" = i.session_key AND x."idempotency_key" = ev.idempotency_key
),
bumped AS (
  UPDATE "sessions" s SET
    "last_seq" = s."last_seq" + i.n,
    "lease_owner" = CASE WHEN i.release THEN NULL ELSE s."lease_owner" END,
    "status" = CASE WHEN i.ends THEN 'ended' ELSE s."status" END,
    "ended_at" = CASE WHEN i.ends AND s."status" <> 'ended' THEN $12::varchar ELSE s."ended_at" END
  FROM input i
  WHERE s."session_key" = i.session_key
    AND NOT (i.expect_active AND s."status" = 'ended')
    AND (i.fence IS NULL OR s."lease_token" = i.fence)
    AND NOT EXISTS (SELECT 1 FROM used WHERE used.ord = i.ord)
  RETURNING i.ord, s."last_seq"
),
inserted AS (
  INSERT INTO "session_events" ("session_key", "seq", "type", "data", "at", "idempotency_key")
  SELECT i.session_key, b."last_seq" - i.n + ev.k, ev.type, ev.data, $12::varchar, ev.idempotency_key
  FROM bumped b
  JOIN input i ON i.ord = b.ord
  JOIN ev ON ev.ord = b.ord
)
SELECT i.ord, b."last_seq", s."session_key" IS NOT NULL AS found, s."status", s."lease_token",
       u.used_key
FROM input i
LEFT JOIN bumped b ON b.ord = i.ord
LEFT JOIN "sessions" s ON b.ord IS NULL AND s."session_key" = i.session_key
LEFT JOIN used u ON b.ord IS NULL AND u.ord = i.ord`;

/**
 * Creates sessions, each with its `session.created` event (seq 1). The events' foreign key is
 * checked at the end of the statement, when the sessions exist.
 *
 * $1 session keys, $2 owners, $3 agents, $4 metadata, $5 the events' data, $6 the time.
 */
export const CREATE_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::text[], $5::text[])
    AS c(session_key, owner_subject, agent_id, metadata, data)
),
created AS (
  INSERT INTO "sessions" ("session_key", "owner_subject", "agent_id", "metadata", "status", "last_seq", "created_at", "ended_at")
  SELECT session_key, owner_subject, agent_id, metadata, 'active', 1, $6::varchar, NULL FROM input
)
INSERT INTO "session_events" ("session_key", "seq", "type", "data", "at", "idempotency_key")
SELECT session_key, 1, 'session.created', data, $6::varchar, NULL FROM input`;
