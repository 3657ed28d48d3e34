import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../sessions/session-api.types.js';
import type { SessionDeltaItem, SessionEventItem } from './client.types.js';
import { ConnectionError } from './connection.error.js';
import type { OutgoingCall } from './rpc.transport.js';
import { SessionTracker } from './session.tracker.js';

const event = (seq: number, type = 'message.user', data: Record<string, unknown> = {}) => ({
  seq,
  type,
  at: '2026-01-01T00:00:00.000Z',
  data,
});

/** A session log the tracker reads with session.history, as the gateway pages it. */
function logOf(count: number) {
  const log: SessionEvent[] = Array.from({ length: count }, (_, i) => event(i + 1));
  const reads: number[] = [];
  const call = (c: OutgoingCall): Promise<unknown> => {
    const afterSeq = Number(c.params.afterSeq);
    reads.push(afterSeq);
    return Promise.resolve(log.filter((e) => e.seq > afterSeq).slice(0, 2));
  };
  return { log, reads, call };
}

function listen(tracker: SessionTracker, afterSeq?: number) {
  const seen: SessionEventItem[] = [];
  const deltas: SessionDeltaItem[] = [];
  const handle = tracker.track(
    's1',
    { onEvent: (e) => seen.push(e), onDelta: (d) => deltas.push(d) },
    afterSeq,
  );
  return { seen, deltas, ...handle };
}

describe('SessionTracker', () => {
  it('reads the log page by page from afterSeq until an empty page', async () => {
    const { reads, call } = logOf(5);
    const tracker = new SessionTracker(call);
    const { seen, caughtUp } = listen(tracker, 1);
    await caughtUp;
    expect(seen.map((e) => e.seq)).toEqual([2, 3, 4, 5]);
    expect(reads).toEqual([1, 3, 5]);
  });

  it('holds live events that arrive during a read and merges them by seq, each once', async () => {
    const { log, call } = logOf(3);
    const tracker = new SessionTracker(call);
    const { seen, caughtUp } = listen(tracker, 0);
    log.push(event(4), event(5));
    // Live events race the pages: duplicates and a newer one ahead of its turn.
    tracker.notification('session.event', { sessionKey: 's1', ...event(5) });
    tracker.notification('session.event', { sessionKey: 's1', ...event(2) });
    await caughtUp;
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('heals a gap in the live stream from the log', async () => {
    const { log, reads, call } = logOf(2);
    const tracker = new SessionTracker(call);
    const { seen, caughtUp } = listen(tracker, 0);
    await caughtUp;
    log.push(event(3), event(4));
    tracker.notification('session.event', { sessionKey: 's1', ...event(4) });
    await expect.poll(() => seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(reads.at(-2)).toBe(2);
  });

  it('drops repeated deltas, and late ones of a finished message', () => {
    const tracker = new SessionTracker(() => Promise.resolve([]));
    const { deltas } = listen(tracker);
    const delta = (index: number) => ({
      sessionKey: 's1',
      messageId: 'm',
      index,
      delta: `${index}`,
    });
    [0, 1, 1, 0, 2].forEach((i) => tracker.notification('session.delta', delta(i)));
    tracker.notification('session.event', {
      sessionKey: 's1',
      ...event(7, 'message.agent', { messageId: 'm' }),
    });
    tracker.notification('session.delta', delta(3));
    expect(deltas.map((d) => d.index)).toEqual([0, 1, 2]);
  });

  it('keeps what it held when the connection drops mid-read, and resumes from lastSeq', async () => {
    let fail = true;
    const { log, call } = logOf(2);
    const tracker = new SessionTracker((c) =>
      fail ? Promise.reject(new ConnectionError('gone')) : call(c),
    );
    const { seen, caughtUp } = listen(tracker, 0);
    tracker.notification('session.event', { sessionKey: 's1', ...event(3) });
    log.push(event(3));
    await caughtUp;
    expect(seen).toEqual([]);
    fail = false;
    tracker.resumeAll();
    await expect.poll(() => seen.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('ends listening when the session cannot be read', async () => {
    const errors: Error[] = [];
    const tracker = new SessionTracker(() => Promise.reject(new Error('not found')));
    const { caughtUp } = tracker.track(
      's1',
      { onEvent: () => undefined, onError: (e) => errors.push(e) },
      0,
    );
    await caughtUp;
    expect(errors.map((e) => e.message)).toEqual(['not found']);
  });
});
