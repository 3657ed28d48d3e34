import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { WsConnectionRegistry } from './ws-connection.registry.js';
import { WsCloseCode } from './ws-close-code.js';
import { WsRpcConnection } from './ws-rpc-connection.js';
import { FakeWsSocket as FakeSocket } from '../../../test/support/fake-ws-socket.js';

const CAP = 1024;

function connectionOn(socket: FakeSocket, registry?: WsConnectionRegistry): WsRpcConnection {
  return new WsRpcConnection(
    socket as unknown as WebSocket,
    '127.0.0.1',
    {},
    CAP,
    registry?.topicChanged ?? (() => undefined),
  );
}

describe('WsRpcConnection send buffer', () => {
  it('sends a frame larger than the cap when nothing is left unsent', () => {
    const socket = new FakeSocket();
    const connection = connectionOn(socket);
    expect(connection.send('x'.repeat(CAP * 10))).toBe(true);
    expect(socket.sent).toHaveLength(1);
    expect(socket.closedWith).toBeUndefined();
  });

  it('closes with 1008 once what is still unsent from earlier frames passes the cap', () => {
    const socket = new FakeSocket();
    const connection = connectionOn(socket);
    socket.bufferedAmount = CAP;
    expect(connection.send('small')).toBe(true);
    socket.bufferedAmount = CAP + 1;
    expect(connection.send('small')).toBe(false);
    expect(socket.sent).toHaveLength(1);
    expect(socket.closedWith).toBe(WsCloseCode.PolicyViolation);
    expect(socket.terminated).toBe(true);
  });
});

describe('WsRpcConnection token expiry', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('closes with 4001 at the deadline without any call or push', () => {
    const socket = new FakeSocket();
    const connection = connectionOn(socket);
    connection.expireAt(Date.now() + 2_000);
    vi.advanceTimersByTime(1_999);
    expect(socket.closedWith).toBeUndefined();
    vi.advanceTimersByTime(1);
    expect(socket.closedWith).toBe(WsCloseCode.Unauthenticated);
  });

  it('re-arms a deadline beyond what one timer can hold instead of firing at once', () => {
    const socket = new FakeSocket();
    const connection = connectionOn(socket);
    const thirtyDays = 30 * 86_400_000;
    connection.expireAt(Date.now() + thirtyDays);
    vi.advanceTimersByTime(2 ** 31);
    expect(socket.closedWith).toBeUndefined();
    vi.advanceTimersByTime(thirtyDays - 2 ** 31);
    expect(socket.closedWith).toBe(WsCloseCode.Unauthenticated);
  });

  it('leaves no timer behind once disposed', () => {
    const connection = connectionOn(new FakeSocket());
    connection.expireAt(Date.now() + 60_000);
    expect(vi.getTimerCount()).toBe(1);
    connection.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never pushes to a connection past its deadline, even before its timer has run', () => {
    const registry = new WsConnectionRegistry();
    const socket = new FakeSocket();
    const connection = connectionOn(socket, registry);
    registry.add(connection);
    connection.subscribe('session:a');
    connection.expireAt(Date.now() + 1_000);
    expect(registry.publish('session:a', 'session.event', { seq: 1 })).toBe(1);
    // The clock passes the deadline while the timer has not fired yet (a busy event loop).
    vi.setSystemTime(Date.now() + 1_000);
    expect(registry.publish('session:a', 'session.event', { seq: 2 })).toBe(0);
    expect(connection.notify('session.delta', { index: 0 })).toBe(false);
    expect(socket.sent).toHaveLength(1);
    expect(socket.closedWith).toBe(WsCloseCode.Unauthenticated);
  });

  it('still sends a call’s reply past the deadline: the -32001 refusal must reach the client', () => {
    const socket = new FakeSocket();
    const connection = connectionOn(socket);
    connection.expireAt(Date.now() + 1_000);
    vi.setSystemTime(Date.now() + 1_000);
    expect(connection.send('{"error":{"code":-32001}}')).toBe(true);
  });
});

describe('WsRpcConnection resumed from a read of the log', () => {
  const seqsSent = (socket: FakeSocket) =>
    socket.sent.map((frame) => (JSON.parse(frame) as { params: { seq?: number } }).params.seq);

  it('drops the events it was already given, published late, until one beyond them passes', () => {
    const registry = new WsConnectionRegistry();
    const socket = new FakeSocket();
    const connection = connectionOn(socket, registry);
    registry.add(connection);
    connection.subscribe('session:a', 3);
    expect(registry.publish('session:a', 'session.event', { seq: 2 })).toBe(0);
    expect(registry.publish('session:a', 'session.event', { seq: 3 })).toBe(0);
    // Deltas carry no seq: they always go.
    expect(registry.publish('session:a', 'session.delta', { index: 0 })).toBe(1);
    expect(registry.publish('session:a', 'session.event', { seq: 4 })).toBe(1);
    // Past the mark the stream is the sequencer's: nothing more is filtered here.
    expect(registry.publish('session:a', 'session.event', { seq: 3 })).toBe(1);
    expect(seqsSent(socket)).toEqual([undefined, 4, 3]);
  });

  it('filters per topic and per connection, and forgets the mark when it unsubscribes', () => {
    const registry = new WsConnectionRegistry();
    const resumed = new FakeSocket();
    const other = new FakeSocket();
    const a = connectionOn(resumed, registry);
    const b = connectionOn(other, registry);
    registry.add(a);
    registry.add(b);
    a.subscribe('session:a', 5);
    a.subscribe('session:b');
    b.subscribe('session:a');
    expect(registry.publish('session:a', 'session.event', { seq: 5 })).toBe(1);
    expect(registry.publish('session:b', 'session.event', { seq: 1 })).toBe(1);
    expect(seqsSent(resumed)).toEqual([1]);
    expect(seqsSent(other)).toEqual([5]);
    a.unsubscribe('session:a');
    a.subscribe('session:a');
    expect(registry.publish('session:a', 'session.event', { seq: 5 })).toBe(2);
  });
});
