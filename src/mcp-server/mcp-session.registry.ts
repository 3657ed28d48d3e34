import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Caller } from '../core/identity/caller.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { ToolRegistry } from '../tools/tool.registry.js';
import { McpRefusal } from './mcp-refusal.js';
import { McpSdkLoader } from './mcp-sdk.loader.js';
import { McpSessionFactory } from './mcp-session.factory.js';
import type { McpSession } from './mcp-session.js';

/** How often idle sessions are looked for, at most (a shorter idle timeout checks more often). */
const MAX_SWEEP_INTERVAL_MS = 60_000;

/**
 * The open MCP sessions of this instance, bounded three ways so that a flood of initialize
 * requests cannot grow memory: per subject (opening one more closes that subject's least
 * recently used session), per instance (a new session is refused with 503 when full, so one
 * tenant cannot evict another's), and in time (idle sessions are closed).
 */
@Injectable()
export class McpSessionRegistry implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Mcp');
  private readonly sessions = new Map<string, McpSession>();
  private readonly bySubject = new Map<string, Set<McpSession>>();
  private sweeper?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private notifyScheduled = false;

  constructor(
    private readonly config: GatewayConfig,
    private readonly tools: ToolRegistry,
    private readonly loader: McpSdkLoader,
    private readonly factory: McpSessionFactory,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.tools.onChange(() => this.scheduleToolsChanged());
    const { sessionIdleTimeout } = this.config.mcp;
    const every = Math.max(250, Math.min(MAX_SWEEP_INTERVAL_MS, sessionIdleTimeout / 2));
    this.sweeper = setInterval(() => this.closeIdle(), every).unref();
  }

  /** Shutdown: every stream ends, so the HTTP server can close. */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.sweeper);
    this.unsubscribe?.();
    await Promise.all([...this.sessions.values()].map((session) => this.close(session)));
  }

  get size(): number {
    return this.sessions.size;
  }

  countFor(subject: string): number {
    return this.bySubject.get(subject)?.size ?? 0;
  }

  /** The caller's session with this id; another subject's is as absent as an unknown one. */
  find(id: string, caller: Caller): McpSession | undefined {
    const session = this.sessions.get(id);
    return session && session.subject === caller.subject && !session.closed ? session : undefined;
  }

  /**
   * A new session for the caller, within the bounds. It is returned busy (its initialize request
   * is in flight): the caller calls `end()` when that request is over.
   */
  async open(caller: Caller): Promise<McpSession> {
    const sdk = await this.loader.load();
    // From here to the insertion nothing awaits, so concurrent opens cannot overshoot a bound.
    const { maxSessionsPerSubject, maxSessions } = this.config.mcp;
    const own = this.bySubject.get(caller.subject);
    while (own && own.size >= maxSessionsPerSubject) {
      this.forget(leastRecentlyUsed(own));
    }
    if (this.sessions.size >= maxSessions) {
      this.closeIdle();
      if (this.sessions.size >= maxSessions) throw McpRefusal.tooManySessions();
    }
    const session = this.factory.create(sdk, caller.subject);
    // Busy from the start, so that a concurrent open prefers an idle session to evict.
    session.begin();
    this.sessions.set(session.id, session);
    // Looked up again: evicting a subject's last session removed its set.
    const current = this.bySubject.get(caller.subject);
    if (current) current.add(session);
    else this.bySubject.set(caller.subject, new Set([session]));
    session.server.onclose = () => this.forget(session, false);
    await session.connect();
    return session;
  }

  /** Drops the session from the maps and closes it (unless it is closing already). */
  forget(session: McpSession, close = true): void {
    if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
    const own = this.bySubject.get(session.subject);
    if (own?.delete(session) && own.size === 0) this.bySubject.delete(session.subject);
    if (close) void this.close(session);
  }

  /** Closes sessions with nothing in flight for longer than `mcp.sessionIdleTimeout`. */
  closeIdle(now = Date.now()): void {
    const cutoff = now - this.config.mcp.sessionIdleTimeout;
    for (const session of this.sessions.values()) {
      if (!session.busy && session.lastActive <= cutoff) this.forget(session);
    }
  }

  /** Coalesces a burst of registry changes (an MCP server's tools arriving) into one notice. */
  private scheduleToolsChanged(): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      for (const session of this.sessions.values()) {
        session.notifyToolsChanged().catch((err: unknown) => {
          this.logger.debug({ err, session: session.id }, 'list_changed not delivered');
        });
      }
    });
  }

  private async close(session: McpSession): Promise<void> {
    try {
      await session.close();
    } catch (err) {
      this.logger.warn({ err, session: session.id }, 'MCP session did not close cleanly');
    }
  }
}

/** The session to give up first: an idle one before a busy one, then the oldest activity. */
function leastRecentlyUsed(sessions: Set<McpSession>): McpSession {
  let oldest: McpSession | undefined;
  for (const session of sessions) {
    if (
      !oldest ||
      (oldest.busy && !session.busy) ||
      (oldest.busy === session.busy && session.lastActive < oldest.lastActive)
    ) {
      oldest = session;
    }
  }
  return oldest!;
}
