/**
 * The PostgreSQL append path's statements, one round trip each. Calls travel as parallel arrays
 * (one element per call; events with the 1-based number of their call), so one prepared
 * statement serves every batch size.
 */

/**
 * Appends the events of calls to distinct sessions. Each session row is locked first (FOR
 * UPDATE: under READ COMMITTED it yields the newest committed version, so the seq, the chain
 * head and the checks are read from the row as it is once this statement owns it); the calls
 * whose checks pass (exists, active, the lease's fencing token, idempotency keys unused) get
 * their events numbered after `last_seq` and hash-chained from `last_hash` (a recursive fold,
 * SHA-256 with PostgreSQL's sha256()), and the row is bumped to the new seq and head (the turn's
 * last append frees the lease and `session.ended` ends the session in the same UPDATE). One row
 * comes back per call: its new `last_seq`, or, for a call left out, what the session row and
 * the idempotency index said.
 *
 * The hashed text is the canonical JSON of {at, data, prev, seq, sessionKey, type}
 * (chain-hash.ts), spliced here from pieces Node sends: the head `{"at":…,"data":` ($13,
 * the batch's time), the event's canonical data ($10), then `,"prev":"…","seq":N` built here,
 * then the event's tail `,"sessionKey":…,"type":…}` ($14), so that all JSON escaping is Node's.
 *
 * $1 session keys, $2 event counts, $3 expect active, $4 fencing tokens (null: unfenced),
 * $5 release the lease, $6 ends the session; events: $7 call number, $8 number in the call,
 * $9 type, $10 data (canonical JSON), $11 idempotency key, $14 hash tail; $12 the time of the
 * batch, $13 the hash head.
 */
export const APPEND_SQL = `
WITH RECURSIVE input AS (
  SELECT * FROM unnest($1::varchar[], $2::int[], $3::bool[], $4::bigint[], $5::bool[], $6::bool[])
    WITH ORDINALITY AS i(session_key, n, expect_active, fence, release, ends, ord)
),
ev AS (
  SELECT * FROM unnest($7::int[], $8::int[], $9::varchar[], $10::text[], $11::varchar[], $14::text[])
    AS e(ord, k, type, data, idempotency_key, tail)
),
used AS (
  SELECT DISTINCT ON (ev.ord) ev.ord, x."idempotency_key" AS used_key
  FROM ev
  JOIN input i ON i.ord = ev.ord
  JOIN "session_events" x
    ON x."session_key" = i.session_key AND x."idempotency_key" = ev.idempotency_key
),
locked AS (
  SELECT i.ord, s."last_seq", s."last_hash"
  FROM "sessions" s
  JOIN input i ON s."session_key" = i.session_key
  WHERE NOT (i.expect_active AND s."status" = 'ended')
    AND (i.fence IS NULL OR s."lease_token" = i.fence)
    AND NOT EXISTS (SELECT 1 FROM used WHERE used.ord = i.ord)
  ORDER BY s."session_key"
  FOR UPDATE OF s
),
chain AS (
  SELECT l.ord, 0 AS k, l."last_seq" AS seq, l."last_hash"::text AS hash FROM locked l
  UNION ALL
  SELECT c.ord, c.k + 1, c.seq + 1,
    encode(sha256(convert_to(
      $13::text || ev.data || ',"prev":"' || coalesce(c.hash, '') || '","seq":' || (c.seq + 1)::text || ev.tail,
      'UTF8')), 'hex')
  FROM chain c
  JOIN ev ON ev.ord = c.ord AND ev.k = c.k + 1
),
bumped AS (
  UPDATE "sessions" s SET
    "last_seq" = l."last_seq" + i.n,
    "last_hash" = h.hash,
    "lease_owner" = CASE WHEN i.release THEN NULL ELSE s."lease_owner" END,
    "status" = CASE WHEN i.ends THEN 'ended' ELSE s."status" END,
    "ended_at" = CASE WHEN i.ends AND s."status" <> 'ended' THEN $12::varchar ELSE s."ended_at" END
  FROM locked l
  JOIN input i ON i.ord = l.ord
  JOIN chain h ON h.ord = l.ord AND h.k = i.n
  WHERE s."session_key" = i.session_key
  RETURNING i.ord, s."last_seq"
),
inserted AS (
  INSERT INTO "session_events" ("session_key", "seq", "type", "data", "at", "idempotency_key", "hash")
  SELECT i.session_key, c.seq, ev.type, ev.data, $12::varchar, ev.idempotency_key, c.hash
  FROM bumped b
  JOIN input i ON i.ord = b.ord
  JOIN chain c ON c.ord = b.ord AND c.k >= 1
  JOIN ev ON ev.ord = b.ord AND ev.k = c.k
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
 * $1 session keys, $2 owners, $3 agents, $4 metadata, $5 the events' data (canonical JSON),
 * $6 the time, $7 the events' hashes (computed in Node: seq 1 chains from the genesis value).
 */
export const CREATE_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::text[], $5::text[], $7::varchar[])
    AS c(session_key, owner_subject, agent_id, metadata, data, hash)
),
created AS (
  INSERT INTO "sessions" ("session_key", "owner_subject", "agent_id", "metadata", "status", "last_seq", "last_hash", "created_at", "ended_at")
  SELECT session_key, owner_subject, agent_id, metadata, 'active', 1, hash, $6::varchar, NULL FROM input
)
INSERT INTO "session_events" ("session_key", "seq", "type", "data", "at", "idempotency_key", "hash")
SELECT session_key, 1, 'session.created', data, $6::varchar, NULL, hash FROM input`;
