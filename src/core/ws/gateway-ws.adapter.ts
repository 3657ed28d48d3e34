import { Logger, type INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { IncomingMessage } from 'node:http';
import { GatewayConfig } from '../config/gateway-config.js';
import { RpcGateway } from '../rpc/rpc.gateway.js';
import { UPGRADE_CALLER } from './ws-upgrade-authenticator.js';

export const WS_SUBPROTOCOL = 'openclaw.v1';

interface WsServerLike {
  on(event: string, listener: (...args: never[]) => void): unknown;
}

type VerifyCallback = (
  result: boolean,
  code?: number,
  message?: string,
  headers?: Record<string, string>,
) => void;

/**
 * @nestjs/platform-ws's adapter, set up for raw JSON-RPC frames: payload cap, the openclaw.v1
 * subprotocol (never echoing a `bearer.` one), and authentication before the upgrade completes.
 */
export class GatewayWsAdapter extends WsAdapter {
  constructor(private readonly app: INestApplicationContext) {
    super(app);
  }

  override create(port: number, options: Record<string, unknown> = {}): unknown {
    const config = this.app.get(GatewayConfig);
    return super.create(port, {
      ...options,
      maxPayload: config.ws.maxPayload,
      perMessageDeflate: false,
      handleProtocols: (protocols: Set<string>) =>
        protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false,
      verifyClient: (info: { req: IncomingMessage }, done: VerifyCallback) => {
        this.verify(info.req).then(
          (decision) => done(...decision),
          () => done(false, 500, 'Internal Server Error'),
        );
      },
    });
  }

  /** A client's protocol mistakes (oversize frame, bad opcode) are its own, not server errors. */
  override bindErrorHandler(server: WsServerLike): WsServerLike {
    server.on('connection', (socket: WsServerLike) =>
      socket.on('error', (err: Error) => this.clientErrors.debug({ err }, 'client socket error')),
    );
    server.on('error', (err: Error) => this.clientErrors.error({ err }, 'WebSocket server error'));
    return server;
  }

  private readonly clientErrors = new Logger('WebSocket');

  /** Frames are raw JSON-RPC, read by the RPC gateway itself: no {event, data} routing. */
  override bindMessageHandlers(): void {}

  /** The rate-limit module's connection limit, when that module is imported. */
  private async verify(
    request: IncomingMessage,
  ): Promise<[boolean, number?, string?, Record<string, string>?]> {
    const offered = request.headers['sec-websocket-protocol'];
    if (offered !== undefined && !offered.split(',').some((p) => p.trim() === WS_SUBPROTOCOL)) {
      return [
        false,
        400,
        `Subprotocol ${WS_SUBPROTOCOL} is required when subprotocols are offered`,
      ];
    }
    const gateway = this.app.get(RpcGateway);
    const limiter = gateway.upgradeLimiter;
    if (limiter) {
      const admission = await limiter.admit(request);
      if (!admission.ok) return [false, admission.status, admission.message, admission.headers];
    }
    const authenticator = gateway.upgradeAuthenticator;
    if (!authenticator) return [true];
    const decision = await authenticator.authenticate(request);
    if (!decision.ok) return [false, decision.status, decision.message, decision.headers];
    (request as IncomingMessage & { [UPGRADE_CALLER]?: unknown })[UPGRADE_CALLER] = decision.caller;
    return [true];
  }
}
