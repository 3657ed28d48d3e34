import { Injectable } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { LiveSeries } from '../live-series/live-series.js';
import type { WsRpcConnection } from './ws-rpc-connection.js';

/** Live WebSocket connections and who listens to which topic, for server-pushed notifications. */
@Injectable()
export class WsConnectionRegistry {
  /** By socket: a socket's event listeners are shared by all sockets and find theirs here. */
  private readonly connections = new Map<WebSocket, WsRpcConnection>();
  private readonly subscribers = new Map<string, Set<WsRpcConnection>>();

  /** The open count goes into the live series (/status/series) as it changes. */
  constructor(private readonly live: LiveSeries = new LiveSeries()) {}

  add(connection: WsRpcConnection): void {
    this.connections.set(connection.socket, connection);
    this.live.websockets(this.connections.size);
  }

  remove(connection: WsRpcConnection): void {
    this.connections.delete(connection.socket);
    this.live.websockets(this.connections.size);
    for (const topic of connection.topics) this.topicChanged(connection, topic, false);
  }

  readonly topicChanged = (connection: WsRpcConnection, topic: string, on: boolean): void => {
    let set = this.subscribers.get(topic);
    if (on) {
      if (!set) this.subscribers.set(topic, (set = new Set()));
      set.add(connection);
    } else if (set) {
      set.delete(connection);
      if (!set.size) this.subscribers.delete(topic);
    }
  };

  /**
   * Sends a notification to every connection subscribed to the topic; returns how many got it.
   * A connection whose token has expired gets nothing and is closed (see WsRpcConnection.push).
   */
  publish(topic: string, method: string, params: Record<string, unknown>): number {
    const set = this.subscribers.get(topic);
    if (!set) return 0;
    const frame = JSON.stringify({ jsonrpc: '2.0', method, params });
    let delivered = 0;
    for (const connection of set) {
      if (connection.alreadyHas(topic, params)) continue;
      if (connection.push(frame)) delivered++;
    }
    return delivered;
  }

  /** The connection on this socket, while it is open. */
  of(socket: WebSocket): WsRpcConnection | undefined {
    return this.connections.get(socket);
  }

  get size(): number {
    return this.connections.size;
  }

  all(): IterableIterator<WsRpcConnection> {
    return this.connections.values();
  }
}
