import type { AgentResponse, SessionEvent } from '../sessions/session-api.types.js';
import { AsyncQueue } from './async.queue.js';
import type { TurnItem } from './client.types.js';
import type { OutgoingCall } from './rpc.transport.js';
import type { SessionListener, SessionTracker } from './session.tracker.js';

export interface TurnStreamOptions {
  /** Sent with the message; a random one when omitted, so that a retry never runs it twice. */
  idempotencyKey?: string;
  /** Ends the stream and cancels the turn (`$/cancelRequest`): it stores its partial answer. */
  signal?: AbortSignal;
}

type Call = (call: OutgoingCall) => Promise<unknown>;

/**
 * One turn as an async iterator: the deltas and stored events of the turn, in order, each event
 * once, then the reply. The message carries an idempotency key, so when the connection drops
 * the transport sends it again and gets the running turn's answer, while the tracker reads what
 * was missed from the log. The turn's events are those with its messageId, the id its
 * `message.user` event (the first event after the send with this content) carries.
 */
export function streamTurn(
  tracker: SessionTracker,
  call: Call,
  sessionKey: string,
  content: string,
  idempotencyKey: string,
  signal?: AbortSignal,
): AsyncIterableIterator<TurnItem> {
  const baseline = tracker.lastSeq(sessionKey);
  let messageId: string | undefined;
  let reply: AgentResponse | undefined;
  let lastYielded = 0;
  const queue = new AsyncQueue<TurnItem>(() => untrack());
  const finish = (): void => {
    if (!reply || lastYielded < reply.seq) return;
    queue.push({ kind: 'reply', sessionKey, response: reply });
    queue.end();
  };
  const listener: SessionListener = {
    onEvent(event) {
      if (messageId === undefined) {
        const ours =
          event.type === 'message.user' &&
          event.data.content === content &&
          (baseline === undefined || event.seq > baseline);
        if (!ours) return;
        messageId = String(event.data.messageId);
      }
      if (event.data.messageId !== messageId) return;
      lastYielded = event.seq;
      queue.push(event);
      finish();
    },
    onDelta(delta) {
      if (delta.messageId === messageId) queue.push(delta);
    },
    onError: (error) => queue.fail(error),
  };
  const { untrack } = tracker.track(sessionKey, listener);
  const params = { sessionKey, content, idempotencyKey };
  call({ method: 'session.message', params, retry: true, signal }).then(
    async (response) => {
      reply = response as AgentResponse;
      messageId ??= reply.messageId;
      // Nothing of the session was seen before the connection dropped: find where the turn began.
      if (lastYielded < reply.seq && tracker.lastSeq(sessionKey) === undefined) {
        await tracker.resumeFrom(sessionKey, await turnStart(call, sessionKey, reply));
      }
      finish();
    },
    (error: unknown) => queue.fail(error),
  );
  return queue;
}

/** The seq just before the turn's `message.user`, found by reading further back each time. */
async function turnStart(call: Call, sessionKey: string, reply: AgentResponse): Promise<number> {
  for (let back = 16; ; back *= 4) {
    const afterSeq = Math.max(0, reply.seq - back);
    const page = (await call({
      method: 'session.history',
      params: { sessionKey, afterSeq, limit: Math.min(back, 1000) },
      retry: true,
    })) as SessionEvent[];
    const start = page.find(
      (event) => event.type === 'message.user' && event.data.messageId === reply.messageId,
    );
    if (start) return start.seq - 1;
    if (afterSeq === 0) return 0;
  }
}
