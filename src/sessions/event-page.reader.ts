import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { StoredEvent } from './session.types.js';

/** What an event costs in a page beyond its data: seq, type, at and the JSON around them. */
const EVENT_OVERHEAD_BYTES = 96;

/** A page of a session's log, and whether the log goes on after it. */
export interface EventPage {
  events: StoredEvent[];
  /** The page stopped before the end of the log (at its count or its byte budget). */
  more: boolean;
}

/**
 * One statement, one round trip: the sizes of the next `limit + 1` events are read from the index
 * range without their data, summed in seq order, and only the events that fit the budget (the
 * first one always) are joined back for their data. So a page never loads a row it will not
 * return, and costs the same whatever the log holds.
 */
const PAGE_SQL = `
SELECT e."seq" AS "seq", e."type" AS "type", e."at" AS "at", e."data" AS "data",
       e."idempotency_key" AS "idempotency_key", p."total" AS "total"
FROM (
  SELECT x."seq",
         sum(x."size") OVER (ORDER BY x."seq") AS "running",
         row_number() OVER (ORDER BY x."seq") AS "n",
         count(*) OVER () AS "total"
  FROM (
    SELECT "seq", octet_length("data") + octet_length("type") + ${EVENT_OVERHEAD_BYTES} AS "size"
    FROM "session_events" WHERE "session_key" = ? AND "seq" > ? ORDER BY "seq" LIMIT ?
  ) x
) p
JOIN "session_events" e ON e."session_key" = ? AND e."seq" = p."seq"
WHERE p."n" = 1 OR p."running" <= ?
ORDER BY e."seq"`;

interface PageRow {
  seq: number | string;
  type: string;
  at: string;
  data: string;
  idempotency_key: string | null;
  total: number | string;
}

/** Reads a session's log in pages bounded by count and by bytes of event data. */
@Injectable()
export class EventPageReader {
  private readonly sql: string;

  constructor(private readonly dataSource: DataSource) {
    let n = 0;
    this.sql =
      dataSource.options.type === 'postgres' ? PAGE_SQL.replace(/\?/g, () => `$${++n}`) : PAGE_SQL;
  }

  /**
   * Events with `seq > afterSeq`, oldest first: at most `limit`, and no more than `maxBytes` of
   * data, except that a page always holds the first event (one larger than the budget alone).
   */
  async read(
    sessionKey: string,
    afterSeq: number,
    limit: number,
    maxBytes: number,
  ): Promise<EventPage> {
    if (limit <= 0) return { events: [], more: false };
    // One more than the page: whether the log goes on is known without another query.
    const rows: PageRow[] = await this.dataSource.query(this.sql, [
      sessionKey,
      afterSeq,
      limit + 1,
      sessionKey,
      maxBytes,
    ]);
    const total = rows.length > 0 ? Number(rows[0].total) : 0;
    const page = rows.slice(0, limit);
    return {
      events: page.map((row) => ({
        sessionKey,
        seq: Number(row.seq),
        type: row.type,
        at: row.at,
        data: JSON.parse(row.data) as Record<string, unknown>,
        idempotencyKey: row.idempotency_key,
      })),
      more: total > page.length,
    };
  }
}
