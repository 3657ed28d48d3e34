import { Logger, type INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { IncomingMessage } from 'node:http';
import type { Caller } from '../identity/caller.js';
import { GatewayConfig } from '../config/gateway-config.js';
import { RpcGateway } from './ws-rpc.gateway.js';
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
 * subprotocol (never echoing a `bearer.` one), and authentication and connection limits before
 * the upgrade completes, within `ws.handshakeTimeout`.
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
      // The RPC gateway's registry already holds every open socket: ws's own set would add a
      // 'close' closure and a set entry per socket. close() below does what ws's set was for.
      clientTracking: false,
      handleProtocols: (protocols: Set<string>) =>
        protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false,
      verifyClient: (info: { req: IncomingMessage }, done: VerifyCallback) =>
        this.verifyWithin(info.req, config.ws.handshakeTimeout, done),
    });
  }

  /**
   * The upgrade's checks, bounded in time: a token check or a limit store that hangs must not
   * hold the client's socket (and its place) for ever. Answers once; nothing if the client left.
   */
  private verifyWithin(request: IncomingMessage, timeoutMs: number, done: VerifyCallback): void {
    let answered = false;
    const answer = (...decision: Parameters<VerifyCallback>): void => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      request.socket.off('close', gone);
      done(...decision);
    };
    const gone = (): void => {
      answered = true;
      clearTimeout(timer);
    };
    const timer = setTimeout(() => {
      this.clientErrors.debug({ timeoutMs }, 'WebSocket upgrade timed out');
      answer(false, 503, 'WebSocket handshake timed out', { 'Retry-After': '1' });
    }, timeoutMs);
    request.socket.once('close', gone);
    this.verify(request).then(
      (decision) => answer(...decision),
      (err: unknown) => {
        this.clientErrors.error({ err }, 'WebSocket upgrade check failed');
        answer(false, 500, 'Internal Server Error');
      },
    );
  }

  /**
   * Server errors only: each socket's 'error' (a client's protocol mistake, such as an oversize
   * frame or a bad opcode, its own and not a server error) is logged by the RPC gateway, which
   * listens from the same 'connection' event on, with the connection's id.
   */
  override bindErrorHandler(server: WsServerLike): WsServerLike {
    server.on('error', (err: Error) => this.clientErrors.error({ err }, 'WebSocket server error'));
    return server;
  }

  /** Without ws's client set, the sockets still open are ended here, as ws's close would. */
  override async close(server: unknown): Promise<void> {
    this.app.get(RpcGateway).terminateAll();
    await super.close(server);
  }

  private readonly clientErrors = new Logger('WebSocket');

  /** Frames are raw JSON-RPC, read by the RPC gateway itself: no {event, data} routing. */
  override bindMessageHandlers(): void {}

  /**
   * The RPC gateway has no handleDisconnect (it listens to 'close' itself), so Nest's 'close'
   * listener and the closure it makes for every socket would only feed a subject no one reads.
   */
  override bindClientDisconnect(): void {}

  /**
   * Authentication first, then the rate-limit module's connection limits (when imported): a
   * refused token spends the failed-authentication budget, never the connection budget of the
   * client's good tokens, and open connections are counted per verified subject.
   */
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
    let caller: Caller | undefined;
    const authenticator = gateway.upgradeAuthenticator;
    if (authenticator) {
      const decision = await authenticator.authenticate(request);
      if (!decision.ok) return [false, decision.status, decision.message, decision.headers];
      caller = decision.caller;
    }
    const limiter = gateway.upgradeLimiter;
    if (limiter) {
      const admission = await limiter.admit(request, caller);
      if (!admission.ok) return [false, admission.status, admission.message, admission.headers];
      if (admission.release) releaseOnClose(request, admission.release);
    }
    (request as IncomingMessage & { [UPGRADE_CALLER]?: Caller })[UPGRADE_CALLER] = caller;
    return [true];
  }
}

/**
 * The TCP socket under the upgrade is the WebSocket's own: its 'close' ends both a handshake
 * that never completed and an open connection, so the place is given back exactly once.
 */
function releaseOnClose(request: IncomingMessage, release: () => void): void {
  if (request.socket.destroyed) release();
  // 'close' comes once, and release() gives back once anyway: `on` spares `once`'s wrapper objects.
  else request.socket.on('close', release);
}
