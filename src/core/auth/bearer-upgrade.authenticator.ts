import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { SecurityAuditLog } from '../audit/security-audit.log.js';
import type { WsUpgradeAuthenticator, WsUpgradeDecision } from '../ws/ws-upgrade-authenticator.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import {
  AUTH_FAILURE_LIMITER,
  type AuthFailureLimiter,
} from '../rate-limit/auth-failure-limiter.js';
import { AUTH_MODULE_OPTIONS, type AuthModuleOptions } from './auth-module.options.js';
import { bearerFromUpgrade } from './bearer-token.js';
import { bearerChallenge, InvalidTokenError } from './invalid-token.error.js';

/**
 * Authenticates a WebSocket before the upgrade completes: `Authorization: Bearer`, or the
 * `bearer.<token>` subprotocol a browser can send. Never the query string, which ends up in logs.
 * A refused upgrade spends the client's failed-authentication budget; past it, 429.
 */
@Injectable()
export class BearerUpgradeAuthenticator implements WsUpgradeAuthenticator {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly verifier: AccessTokenVerifier,
    @Optional() @Inject(AUTH_MODULE_OPTIONS) private readonly options: AuthModuleOptions = {},
    @Optional()
    @Inject(AUTH_FAILURE_LIMITER)
    private readonly failures?: AuthFailureLimiter,
    @Optional() private readonly audit?: SecurityAuditLog,
  ) {}

  async authenticate(request: IncomingMessage): Promise<WsUpgradeDecision> {
    const hostCaller = await this.options.authenticate?.({ headers: request.headers });
    if (hostCaller) return { ok: true, caller: hostCaller };
    const credential = bearerFromUpgrade(request.headers);
    try {
      if (credential.kind === 'none') throw InvalidTokenError.missing();
      if (credential.kind === 'malformed') throw InvalidTokenError.invalid(credential.reason);
      // Not remembered: a socket verifies once and keeps its caller (its token's expiry included);
      // a cache entry per socket kept its token as long as the socket.
      const caller = await this.verifier.verify(credential.token, { remember: false });
      return { ok: true, caller };
    } catch (err) {
      if (!(err instanceof InvalidTokenError)) throw err;
      this.logger.debug({ reason: err.detail ?? err.reason }, 'WebSocket upgrade refused');
      this.audit?.record({
        action: 'auth.failed',
        outcome: 'denied',
        ip: request.socket.remoteAddress,
        detail: { reason: err.reason, transport: 'ws' },
      });
      const verdict = await this.failures?.recordFailure({
        remoteAddress: request.socket.remoteAddress,
        headers: request.headers,
      });
      if (verdict?.refuse) {
        return {
          ok: false,
          status: 429,
          message: 'Too Many Requests',
          headers: { 'Retry-After': String(Math.ceil(verdict.retryAfterMs / 1000)) },
        };
      }
      return {
        ok: false,
        status: 401,
        message: 'Unauthorized',
        headers: { 'WWW-Authenticate': bearerChallenge(err) },
      };
    }
  }
}
