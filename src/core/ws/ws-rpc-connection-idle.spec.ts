import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenDeadlines } from './token-deadlines.js';
import { WsCloseCode } from './ws-close-code.js';
import { WsConnectionRegistry } from './ws-connection.registry.js';
import { connectFakeWs as connect } from '../../../test/support/fake-ws-socket.js';

describe('WsRpcConnection, idle', () => {
  it('makes no topic set until its first subscription, and forgets topics on unsubscribe', () => {
    const registry = new WsConnectionRegistry();
    const { socket, connection } = connect(registry);
    expect(connection.topics.size).toBe(0);
    connection.unsubscribe('session:a');
    expect(registry.publish('session:a', 'session.event', {})).toBe(0);
    connection.subscribe('session:a');
    connection.subscribe('session:a');
    expect([...connection.topics]).toEqual(['session:a']);
    expect(registry.publish('session:a', 'session.event', { seq: 1 })).toBe(1);
    connection.unsubscribe('session:a');
    expect(registry.publish('session:a', 'session.event', { seq: 2 })).toBe(0);
    expect(socket.sent).toHaveLength(1);
  });

  it('leaves the topics a closed connection listened to', () => {
    const registry = new WsConnectionRegistry();
    const { connection } = connect(registry);
    connection.subscribe('session:a');
    registry.remove(connection);
    expect(registry.publish('session:a', 'session.event', {})).toBe(0);
    expect(registry.of(connection.socket)).toBeUndefined();
  });

  it('finds each connection by its socket', () => {
    const registry = new WsConnectionRegistry();
    const a = connect(registry);
    const b = connect(registry);
    expect(registry.of(a.connection.socket)).toBe(a.connection);
    expect(registry.of(b.connection.socket)).toBe(b.connection);
    expect(registry.size).toBe(2);
  });

  it('gives every connection its own id, the same on every read', () => {
    const registry = new WsConnectionRegistry();
    const ids = new Set(Array.from({ length: 100 }, () => connect(registry).connection.id));
    expect(ids.size).toBe(100);
    const { connection } = connect(registry);
    expect(connection.id).toBe(connection.id);
  });

  it("numbers each frame's correlation id after the connection's id", () => {
    const { connection } = connect(new WsConnectionRegistry());
    expect(connection.nextCorrelationId()).toBe(`${connection.id}.1`);
    expect(connection.nextCorrelationId()).toBe(`${connection.id}.2`);
  });
});

describe('WsRpcConnection token expiry through a shared sweep', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('closes exactly the connections whose tokens are due, behind one timer', () => {
    const registry = new WsConnectionRegistry();
    const deadlines = new TokenDeadlines();
    const now = Date.now();
    const early = Array.from({ length: 50 }, () => connect(registry, deadlines));
    const late = Array.from({ length: 50 }, () => connect(registry, deadlines));
    for (const { connection } of early) connection.expireAt(now + 1_000);
    for (const { connection } of late) connection.expireAt(now + 2_000);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(999);
    expect(early.every(({ socket }) => socket.closedWith === undefined)).toBe(true);
    vi.advanceTimersByTime(1);
    expect(early.every(({ socket }) => socket.closedWith === WsCloseCode.Unauthenticated)).toBe(
      true,
    );
    expect(late.every(({ socket }) => socket.closedWith === undefined)).toBe(true);
    vi.advanceTimersByTime(1_000);
    expect(late.every(({ socket }) => socket.closedWith === WsCloseCode.Unauthenticated)).toBe(
      true,
    );
    expect(deadlines.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never closes a connection that closed before its deadline', () => {
    const registry = new WsConnectionRegistry();
    const deadlines = new TokenDeadlines();
    const gone = connect(registry, deadlines);
    const open = connect(registry, deadlines);
    gone.connection.expireAt(Date.now() + 1_000);
    open.connection.expireAt(Date.now() + 1_000);
    gone.connection.dispose();
    expect(deadlines.size).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(gone.socket.closedWith).toBeUndefined();
    expect(open.socket.closedWith).toBe(WsCloseCode.Unauthenticated);
  });

  it('keeps one deadline per connection when it is set again', () => {
    const registry = new WsConnectionRegistry();
    const deadlines = new TokenDeadlines();
    const { socket, connection } = connect(registry, deadlines);
    connection.expireAt(Date.now() + 1_000);
    connection.expireAt(Date.now() + 3_000);
    expect(deadlines.size).toBe(1);
    vi.advanceTimersByTime(2_999);
    expect(socket.closedWith).toBeUndefined();
    vi.advanceTimersByTime(1);
    expect(socket.closedWith).toBe(WsCloseCode.Unauthenticated);
  });
});
