import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Caller } from '../identity/caller.js';
import { InFlightCalls } from '../rpc/in-flight-calls.js';
import type { RpcConnection } from '../rpc/rpc-connection.js';
import { WsCloseCode } from './ws-close-code.js';
import { TokenDeadlines, type DeadlineHolder } from './token-deadlines.js';
import {
  compactHeaders,
  expandHeaders,
  type HeaderList,
  type HeaderRecord,
  upgradeHeaderValues,
} from './upgrade-headers.js';

/**
 * Connection ids are this process's random prefix and a sequence number, made into a string only
 * when read (a log line, a call's correlation id): unique like a UUID per connection, without a
 * 36-character string kept by every idle socket.
 */
const PROCESS_PREFIX = randomBytes(9).toString('base64url');
let sequence = 0;

const NO_TOPICS: ReadonlySet<string> = new Set();

/**
 * One WebSocket client: its subscriptions, its send-buffer cap and its in-flight budget. What an
 * idle socket does not use is made on first use (topics, the frames waiting, the abort
 * controller, the book of calls), and its token's deadline sits in the gateway's one sweep
 * instead of a timer of its own: thousands of idle sockets are the common case.
 */
export class WsRpcConnection implements RpcConnection, DeadlineHolder {
  private readonly seq = ++sequence;
  caller?: Caller;
  inFlight = 0;
  /** Frames received so far: numbers each frame's correlation id. */
  private frames = 0;
  /** Frames read but not yet started because the connection is at its in-flight bound. */
  pending?: string[];
  /** A turn of the event loop is booked to start pending frames. */
  pendingScheduled = false;
  /** Answered the last heartbeat ping (or just opened); the heartbeat terminates it otherwise. */
  alive = true;
  /** Its slot in the deadline sweep (TokenDeadlines), -1 when it has no deadline there. */
  deadlineSlot = -1;
  /** Set by closeAfterReply: the gateway closes with it after sending the current reply. */
  closing?: { code: number; reason: string };
  /** Made on first read: few calls look at their signal, and each idle socket costs less. */
  private controller?: AbortController;
  /** Made on the first call that does not answer at once. */
  private book?: InFlightCalls;
  /** When the caller's token stops being good (epoch ms, clock tolerance included). */
  private expiresAt?: number;
  private topicSet?: Set<string>;
  /** Per topic, the seq up to which the client already has the events (see subscribe). */
  private givenUpTo?: Map<string, number>;
  /** The client's address (after trusted-proxy resolution). */
  readonly ip: string;
  /** The upgrade's headers: a compact list until someone reads them, then the object. */
  private upgradeHeaders: HeaderList | HeaderRecord;

  constructor(
    readonly socket: WebSocket,
    ip: string,
    headers: HeaderRecord,
    private readonly maxBufferedBytes: number,
    private readonly onTopicChange: (
      connection: WsRpcConnection,
      topic: string,
      on: boolean,
    ) => void,
    /** The gateway's sweep; a connection made on its own (a unit test) gets one of its own. */
    private readonly deadlines: TokenDeadlines = new TokenDeadlines(),
  ) {
    this.upgradeHeaders = compactHeaders(headers);
    // Many sockets come from one address (a proxy, a NAT, a host's pool of clients).
    this.ip = upgradeHeaderValues.intern(ip);
  }

  /**
   * The upgrade request's headers, lower-cased, as Node parsed them (guards may read any). Made
   * into an object on first read and kept: an idle socket keeps only the compact list.
   */
  get headers(): HeaderRecord {
    const kept = this.upgradeHeaders;
    if (!Array.isArray(kept)) return kept as HeaderRecord;
    return (this.upgradeHeaders = expandHeaders(kept));
  }

  get id(): string {
    return `${PROCESS_PREFIX}-${this.seq}`;
  }

  /** The next frame's correlation id: the connection's id and the frame's number. */
  nextCorrelationId(): string {
    return `${this.id}.${++this.frames}`;
  }

  /** The topics it listens to. */
  get topics(): ReadonlySet<string> {
    return this.topicSet ?? NO_TOPICS;
  }

  /** Aborted when the connection closes (or the gateway stops): its calls are cancelled. */
  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  /** The calls running on this connection, by id: what `$/cancelRequest` looks up. */
  get calls(): InFlightCalls {
    return (this.book ??= new InFlightCalls());
  }

  /** Cancels the calls still running on this connection. */
  abortCalls(): void {
    this.controller?.abort(new Error('connection closed'));
  }

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  subscribe(topic: string, givenUpTo?: number): void {
    if (givenUpTo !== undefined) (this.givenUpTo ??= new Map()).set(topic, givenUpTo);
    const topics = (this.topicSet ??= new Set());
    if (topics.has(topic)) return;
    topics.add(topic);
    this.onTopicChange(this, topic, true);
  }

  unsubscribe(topic: string): void {
    this.forgetGiven(topic);
    if (!this.topicSet?.delete(topic)) return;
    this.onTopicChange(this, topic, false);
  }

  /**
   * Whether the client already has this notification of a topic: a sequenced one at or below
   * what it was given when it subscribed. The mark goes once the stream passes it, so a
   * connection pays this only between a read of the log and the next event.
   */
  alreadyHas(topic: string, params: Record<string, unknown>): boolean {
    const upTo = this.givenUpTo?.get(topic);
    if (upTo === undefined || typeof params.seq !== 'number') return false;
    if (params.seq <= upTo) return true;
    this.forgetGiven(topic);
    return false;
  }

  private forgetGiven(topic: string): void {
    if (this.givenUpTo?.delete(topic) && this.givenUpTo.size === 0) this.givenUpTo = undefined;
  }

  notify(method: string, params: Record<string, unknown>): boolean {
    return this.push(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  /** Sends a server notification, never to a connection whose token has expired. */
  push(frame: string): boolean {
    if (this.expired()) {
      this.expire();
      return false;
    }
    return this.send(frame);
  }

  /**
   * Closes the connection with 4001 when its token expires (at `deadline`, epoch ms), without
   * waiting for the client's next call: a socket must not keep receiving events past its token.
   */
  expireAt(deadline: number): void {
    this.expiresAt = deadline;
    this.deadlines.set(this, deadline);
  }

  /** The sweep's call when the deadline passes. */
  deadlinePassed(): void {
    this.expire();
  }

  expired(): boolean {
    return this.expiresAt !== undefined && this.expiresAt <= Date.now();
  }

  /** Releases what the connection holds besides its socket; called when the socket closes. */
  dispose(): void {
    this.deadlines.remove(this);
  }

  private expire(): void {
    this.dispose();
    this.close(WsCloseCode.Unauthenticated, 'token expired');
  }

  /**
   * Sends a frame unless the peer is not reading. The rule looks at what is still unsent from
   * earlier frames, never at this frame's size: a client that reads gets a reply larger than the
   * cap, and one that does not is closed before the gateway holds more than the cap plus one
   * frame for it.
   */
  send(frame: string): boolean {
    if (!this.isOpen) return false;
    if (this.socket.bufferedAmount > this.maxBufferedBytes) {
      this.close(WsCloseCode.PolicyViolation, 'send buffer overflow: the client is not reading');
      // A peer that does not read will not read a close frame either.
      this.socket.terminate();
      return false;
    }
    this.socket.send(frame);
    return true;
  }

  closeAfterReply(code: number, reason: string): void {
    this.closing ??= { code, reason };
  }

  close(code: number, reason: string): void {
    if (this.isOpen) this.socket.close(code, reason);
  }
}
