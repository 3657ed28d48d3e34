import type { SessionEvent } from '../sessions/session-api.types.js';
import { AsyncQueue } from './async.queue.js';
import type { SessionDeltaItem, SessionEventItem } from './client.types.js';
import type { OutgoingCall } from './rpc.transport.js';
import type { SessionTracker } from './session.tracker.js';

export interface FollowOptions {
  /** Events after this seq are yielded (default 0: the whole log). */
  afterSeq?: number;
  /** Yield the streamed deltas too (WebSocket only; deltas are never stored). */
  deltas?: boolean;
  signal?: AbortSignal;
  /** HTTP transport: how often the log is read again once read to its end (default 1 s). */
  pollIntervalMs?: number;
}

/**
 * A session's events from a seq, as an async iterator, every event once and in order, across
 * reconnects; it ends after `session.ended`, when the loop breaks, on `close()` or on abort.
 */
export interface SessionFollow<T = SessionEventItem> extends AsyncIterableIterator<T> {
  /** Settles when the log has been read to its end (what follows is live). */
  readonly caughtUp: Promise<void>;
  close(): void;
}

type Call = (call: OutgoingCall) => Promise<unknown>;
type Item = SessionEventItem | SessionDeltaItem;

function follow<T>(queue: AsyncQueue<Item>, caughtUp: Promise<void>): SessionFollow<T> {
  caughtUp.catch(() => undefined);
  return Object.assign(queue as unknown as AsyncIterableIterator<T>, {
    caughtUp,
    close: () => void queue.return(),
  });
}

function abortable(queue: AsyncQueue<Item>, signal: AbortSignal | undefined): void {
  if (!signal) return;
  if (signal.aborted) return void queue.return();
  signal.addEventListener('abort', () => void queue.return(), { once: true });
}

/** Over a WebSocket: the tracker delivers live events; a seq before what it has is read here. */
export function followOverWs<T>(
  tracker: SessionTracker,
  call: Call,
  sessionKey: string,
  options: FollowOptions,
): SessionFollow<T> {
  let cursor = options.afterSeq ?? 0;
  let backfill: SessionEventItem[] | undefined;
  const queue = new AsyncQueue<Item>(() => untrack());
  const emit = (event: SessionEventItem): void => {
    if (event.seq <= cursor) return;
    cursor = event.seq;
    queue.push(event);
    if (event.type === 'session.ended') queue.end();
  };
  const known = tracker.lastSeq(sessionKey);
  const { untrack, caughtUp } = tracker.track(
    sessionKey,
    {
      onEvent: (event) => (backfill ? backfill.push(event) : emit(event)),
      onDelta: (delta) => options.deltas && queue.push(delta),
      onError: (error) => queue.fail(error),
    },
    cursor,
  );
  abortable(queue, options.signal);
  // The tracker is further along than this follow wants: read the part it has already delivered.
  let ready = caughtUp;
  if (known !== undefined && cursor < known) {
    backfill = [];
    ready = (async () => {
      while (cursor < known && !queue.ended) {
        const page = await readPage(call, sessionKey, cursor);
        if (page.length === 0) break;
        page
          .filter((e) => e.seq <= known)
          .forEach((e) => emit({ kind: 'event', sessionKey, ...e }));
        if (page.at(-1)!.seq >= known) break;
      }
      const live = backfill ?? [];
      backfill = undefined;
      live.forEach(emit);
      await caughtUp;
    })();
    ready.catch((error: unknown) => queue.fail(error));
  }
  return follow<T>(queue, ready);
}

/** Over HTTP: the log is read page by page, and again every `pollIntervalMs` once at its end. */
export function followOverHttp<T>(
  call: Call,
  sessionKey: string,
  options: FollowOptions,
): SessionFollow<T> {
  let cursor = options.afterSeq ?? 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  const queue = new AsyncQueue<Item>(() => {
    clearTimeout(timer);
    wake?.();
  });
  abortable(queue, options.signal);
  let reachedEnd: () => void = () => undefined;
  let failed: (error: unknown) => void = () => undefined;
  const caughtUp = new Promise<void>((resolve, reject) => {
    reachedEnd = resolve;
    failed = reject;
  });
  const poll = async (): Promise<void> => {
    while (!queue.ended) {
      const page = await readPage(call, sessionKey, cursor);
      for (const event of page) {
        cursor = event.seq;
        queue.push({ kind: 'event', sessionKey, ...event });
        if (event.type === 'session.ended') return queue.end();
      }
      if (page.length > 0) continue;
      reachedEnd();
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, options.pollIntervalMs ?? 1000);
      });
    }
  };
  poll().catch((error: unknown) => {
    failed(error);
    queue.fail(error);
  });
  return follow<T>(queue, caughtUp);
}

async function readPage(call: Call, sessionKey: string, afterSeq: number): Promise<SessionEvent[]> {
  return (await call({
    method: 'session.history',
    params: { sessionKey, afterSeq, limit: 200 },
    retry: true,
  })) as SessionEvent[];
}
