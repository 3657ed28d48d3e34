import { Inject, Logger, Optional, type OnModuleDestroy } from '@nestjs/common';
import { WebSocketGateway, type OnGatewayConnection, type OnGatewayInit } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import type { Caller } from '../identity/caller.js';
import { GatewayConfig } from '../config/gateway-config.js';
import { clientIp } from '../rpc/client-ip.js';
import { cancelRequestParams } from '../rpc/in-flight-calls.js';
import { RpcDispatcher } from '../rpc/rpc-dispatcher.js';
import { WsCloseCode } from './ws-close-code.js';
import { WsConnectionRegistry } from './ws-connection.registry.js';
import { WsRpcConnection } from './ws-rpc-connection.js';
import { TokenDeadlines } from './token-deadlines.js';
import {
  UPGRADE_CALLER,
  WS_UPGRADE_AUTHENTICATOR,
  type WsUpgradeAuthenticator,
} from './ws-upgrade-authenticator.js';
import { WS_UPGRADE_LIMITER, type WsUpgradeLimiter } from './ws-upgrade-limiter.js';

/**
 * The WebSocket transport: it only turns frames into dispatcher calls and replies into frames.
 * It also keeps connections honest: heartbeats, a bounded number of calls in flight per
 * connection (beyond it the socket is not read), a capped send buffer, and a close (4001) when
 * the connection's token expires.
 */
@WebSocketGateway({ path: '/ws' })
export class RpcGateway implements OnGatewayInit, OnGatewayConnection, OnModuleDestroy {
  private readonly logger = new Logger('WebSocket');
  private heartbeat?: NodeJS.Timeout;
  /** Every connection's token deadline, behind one timer. */
  private readonly deadlines = new TokenDeadlines();

  // One listener per event for every socket (ws calls it with the socket as `this`), not closures
  // per socket: an idle socket keeps only what is its own.
  private readonly onMessage = socketListener((socket, data: RawData) => {
    const connection = this.connections.of(socket);
    if (connection) this.onFrame(connection, data);
  });
  private readonly onPong = socketListener((socket) => {
    const connection = this.connections.of(socket);
    if (connection) connection.alive = true;
  });
  private readonly onClose = socketListener((socket) => {
    const connection = this.connections.of(socket);
    if (!connection) return;
    connection.dispose();
    connection.abortCalls();
    this.connections.remove(connection);
  });
  // A client's protocol mistakes (oversize frame, bad opcode) are its own, not server errors.
  private readonly onError = socketListener((socket, err: Error) =>
    this.logger.debug({ err, connection: this.connections.of(socket)?.id }, 'socket error'),
  );

  constructor(
    private readonly dispatcher: RpcDispatcher,
    private readonly connections: WsConnectionRegistry,
    private readonly config: GatewayConfig,
    /** From the auth module, when imported; read by the adapter at each upgrade. */
    @Optional()
    @Inject(WS_UPGRADE_AUTHENTICATOR)
    readonly upgradeAuthenticator?: WsUpgradeAuthenticator,
    /** From the rate-limit module, when imported; read by the adapter at each upgrade. */
    @Optional() @Inject(WS_UPGRADE_LIMITER) readonly upgradeLimiter?: WsUpgradeLimiter,
  ) {}

  afterInit(_server: WebSocketServer): void {
    this.heartbeat = setInterval(() => this.beat(), this.config.ws.heartbeatInterval);
    this.heartbeat.unref();
  }

  handleConnection(socket: WebSocket, request: IncomingMessage): void {
    // First, before anything here can throw: an 'error' with no listener would end the process.
    socket.on('error', this.onError);
    const connection = new WsRpcConnection(
      socket,
      clientIp(request.socket.remoteAddress, request.headers, this.config.gateway.trustedProxies),
      request.headers,
      this.config.ws.maxBufferedBytes,
      this.connections.topicChanged,
      this.deadlines,
    );
    connection.caller = (request as IncomingMessage & { [UPGRADE_CALLER]?: Caller })[
      UPGRADE_CALLER
    ];
    // Same deadline as the auth guard's for calls: the token's exp plus the clock tolerance.
    const expiresAt = connection.caller?.expiresAt;
    if (expiresAt !== undefined) {
      connection.expireAt(expiresAt + this.config.auth.jwt.clockTolerance);
    }
    this.connections.add(connection);
    socket.on('pong', this.onPong);
    socket.on('message', this.onMessage);
    // ws emits 'close' once; `on` spares the wrapper objects `once` makes per socket.
    socket.on('close', this.onClose);
  }

  onModuleDestroy(): void {
    clearInterval(this.heartbeat);
    this.deadlines.stop();
  }

  /** Closes every connection with 1001 (going away), for shutdown. */
  closeAll(reason = 'server shutting down'): void {
    for (const connection of this.connections.all()) {
      connection.close(WsCloseCode.GoingAway, reason);
    }
  }

  /** Ends every socket at once (the WebSocket server is closing). */
  terminateAll(): void {
    for (const connection of [...this.connections.all()]) connection.socket.terminate();
  }

  /** Stops reading every connection: no new call starts during shutdown. */
  pauseAll(): void {
    for (const connection of this.connections.all()) connection.socket.pause();
  }

  // Text and binary frames alike carry UTF-8 JSON.
  private onFrame(connection: WsRpcConnection, data: RawData): void {
    const text = (
      Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
    ).toString('utf8');
    // Fairness: a pipelining client gets `maxInFlight` calls at a time. Beyond that its frames
    // wait here (at most one socket read's worth) and the socket is paused, so the rest wait in
    // the kernel's buffers (TCP backpressure), not in our memory or in everyone's latency.
    if (connection.inFlight >= this.config.ws.maxInFlight || this.draining) {
      // A cancel must not wait behind the calls it is meant to stop.
      const cancel = cancelRequestParams(text);
      if (cancel) return connection.calls.cancel(cancel.params);
      (connection.pending ??= []).push(text);
      connection.socket.pause();
      return;
    }
    this.run(connection, text);
  }

  private run(connection: WsRpcConnection, text: string): void {
    connection.inFlight++;
    this.dispatcher
      .dispatchText(text, {
        transport: 'ws',
        ip: connection.ip,
        // Read only by what asks (a host's guard): an idle socket keeps its headers compact.
        get headers() {
          return connection.headers;
        },
        // The connection's id and the frame's number: unique, and no random bytes per frame.
        correlationId: connection.nextCorrelationId(),
        connection,
        caller: connection.caller,
        get signal() {
          return connection.signal;
        },
      })
      .then(
        ({ response }) => {
          if (response) connection.send(JSON.stringify(response));
          this.settled(connection);
        },
        (err: unknown) => {
          this.logger.error({ err }, 'dispatch failed');
          this.settled(connection);
        },
      );
  }

  private settled(connection: WsRpcConnection): void {
    connection.inFlight--;
    if (connection.closing) connection.close(connection.closing.code, connection.closing.reason);
    if (this.draining || !connection.isOpen) return;
    this.schedulePending(connection);
  }

  /**
   * Starts a paused connection's waiting frames on the next turn of the event loop, never from
   * the finished call's continuation: calls that need no I/O would otherwise chain from one
   * microtask to the next through the whole backlog while no other socket is read (measured: a
   * quiet client waited 140 ms behind a pipelining one).
   */
  private schedulePending(connection: WsRpcConnection): void {
    if (connection.pendingScheduled) return;
    if (!connection.pending?.length) {
      if (connection.socket.isPaused) connection.socket.resume();
      return;
    }
    connection.pendingScheduled = true;
    setImmediate(() => {
      connection.pendingScheduled = false;
      if (this.draining || !connection.isOpen) return;
      const pending = connection.pending ?? [];
      while (connection.inFlight < this.config.ws.maxInFlight) {
        const next = pending.shift();
        if (next === undefined) break;
        this.run(connection, next);
      }
      if (pending.length === 0) {
        // A connection that paused once may pause again, but an idle one keeps no array.
        connection.pending = undefined;
        if (connection.socket.isPaused) connection.socket.resume();
      }
    });
  }

  private draining = false;

  /** Called at shutdown before waiting for in-flight calls. */
  drain(): void {
    this.draining = true;
    this.pauseAll();
  }

  private beat(): void {
    for (const connection of this.connections.all()) {
      const { socket } = connection;
      if (!connection.alive) {
        socket.terminate();
        continue;
      }
      connection.alive = false;
      socket.ping();
    }
  }
}

/** A listener shared by every socket: ws calls it with the socket as `this`. */
function socketListener<A = undefined>(
  handle: (socket: WebSocket, arg: A) => void,
): (this: WebSocket, arg: A) => void {
  return function (this: WebSocket, arg: A): void {
    handle(this, arg);
  };
}
