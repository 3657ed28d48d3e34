import type { WebSocket } from 'ws';
import type { TokenDeadlines } from '../../src/core/ws/token-deadlines.js';
import type { WsConnectionRegistry } from '../../src/core/ws/ws-connection.registry.js';
import { WsRpcConnection } from '../../src/core/ws/ws-rpc-connection.js';

/** For specs: the part of a ws socket a connection uses, recording what was sent and how it closed. */
export class FakeWsSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  closedWith?: number;
  terminated = false;

  send(frame: string): void {
    this.sent.push(frame);
  }

  close(code: number): void {
    this.closedWith = code;
    this.readyState = 2;
  }

  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
}

/**
 * A connection on a fake socket, open in `registry` as the RPC gateway opens one (from
 * 127.0.0.1, no headers, a 1 KiB send buffer, the given deadline sweep or one of its own).
 */
export function connectFakeWs(
  registry: WsConnectionRegistry,
  deadlines?: TokenDeadlines,
): { socket: FakeWsSocket; connection: WsRpcConnection } {
  const socket = new FakeWsSocket();
  const connection = new WsRpcConnection(
    socket as unknown as WebSocket,
    '127.0.0.1',
    {},
    1024,
    registry.topicChanged,
    deadlines,
  );
  registry.add(connection);
  return { socket, connection };
}
