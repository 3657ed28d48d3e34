import { Controller, Logger, Optional, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SecurityAuditLog } from '../audit/security-audit.log.js';
import { GatewayConfig } from '../config/gateway-config.js';
import { clientIp } from '../rpc/client-ip.js';
import { ClientAuthFailures } from './client-auth-failures.js';
import { ClientSecretHasherBusyError } from './client-secret.hasher.js';
import { OAuthClientService, type AuthenticatedClient } from './oauth-client.service.js';
import { OAuthError } from './oauth.error.js';
import { Public } from '../identity/public.decorator.js';
import { RefreshTokenService } from './refresh-token.service.js';
import { TokenService } from './token.service.js';
import { parseScopeString } from './token-scopes.js';
import {
  clientAuthenticationFailed,
  clientCredentials,
  parseTokenParams,
  type TokenParams,
} from './token-request.js';

/**
 * The OAuth 2.0 token endpoint (RFC 6749 §3.2): client_credentials and rotating refresh_token
 * grants, JSON or form bodies (Nest's Fastify adapter parses urlencoded bodies itself). The
 * request is checked for shape and size before anything is counted, queried or hashed.
 */
@Controller('auth')
export class AuthTokenController {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly clients: OAuthClientService,
    private readonly refreshTokens: RefreshTokenService,
    private readonly tokens: TokenService,
    private readonly failures: ClientAuthFailures,
    private readonly config: GatewayConfig,
    @Optional() private readonly audit?: SecurityAuditLog,
  ) {}

  @Public()
  @Post('token')
  async token(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // Token responses must never be cached (RFC 6749 §5.1).
    void reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    const ip = clientIp(request.ip, request.headers, this.config.gateway.trustedProxies);
    try {
      const params = parseTokenParams(request.body);
      const client = await this.authenticateClient(request, params, ip);
      const body =
        params.grant_type === 'client_credentials'
          ? await this.clientCredentials(client, params, ip)
          : await this.refresh(client, params, ip);
      await reply.status(200).type('application/json').send(JSON.stringify(body));
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      this.logger.debug({ error: err.error, ip }, 'token request refused');
      if (err.error !== 'invalid_client') {
        this.audit?.record({
          action: 'auth.token_refused',
          outcome: 'denied',
          ip,
          detail: { error: err.error },
        });
      }
      for (const [name, value] of Object.entries(err.headers)) void reply.header(name, value);
      if (err.error === 'invalid_client' && request.headers.authorization !== undefined) {
        void reply.header('WWW-Authenticate', 'Basic realm="openclaw-gateway"');
      }
      await reply.status(err.status).type('application/json').send(JSON.stringify(err.toBody()));
    }
  }

  private async authenticateClient(
    request: FastifyRequest,
    params: TokenParams,
    ip: string,
  ): Promise<AuthenticatedClient> {
    const grantType = params.grant_type;
    if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grantType !== 'client_credentials' && grantType !== 'refresh_token') {
      throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
    }
    const { clientId, secret } = clientCredentials(request.headers.authorization, params);
    const locked = this.failures.lockedFor(clientId, ip);
    if (locked !== undefined) throw lockedOut(locked);
    let client: AuthenticatedClient | undefined;
    try {
      client = await this.clients.authenticate(clientId, secret);
    } catch (err) {
      if (!(err instanceof ClientSecretHasherBusyError)) throw err;
      throw new OAuthError('temporarily_unavailable', 'Too many token requests; retry later', 503, {
        'Retry-After': String(Math.ceil(err.retryAfterMs / 1000)),
      });
    }
    if (client) return client;
    this.audit?.record({ action: 'auth.client_failed', outcome: 'denied', target: clientId, ip });
    const lockedNow = await this.failures.recordFailure(clientId, ip);
    throw lockedNow === undefined ? clientAuthenticationFailed() : lockedOut(lockedNow);
  }

  /** No refresh token: the client holds its credentials and asks again (RFC 6749 §4.4.3). */
  private async clientCredentials(
    client: AuthenticatedClient,
    params: TokenParams,
    ip: string,
  ): Promise<object> {
    const scopes = grantedScopes(params.scope, client.scopes);
    return this.tokenResponse(ip, client.clientId, client.clientId, scopes);
  }

  private async refresh(
    client: AuthenticatedClient,
    params: TokenParams,
    ip: string,
  ): Promise<object> {
    if (!params.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required');
    const { grant, refreshToken } = await this.refreshTokens.rotate(
      params.refresh_token,
      client.clientId,
    );
    // Never more than the original grant, nor more than the client holds today.
    const allowed = grant.scopes.filter((scope) => client.scopes.includes(scope));
    const scopes = grantedScopes(params.scope, allowed);
    return this.tokenResponse(ip, grant.subject, client.clientId, scopes, refreshToken);
  }

  private async tokenResponse(
    ip: string,
    subject: string,
    clientId: string,
    scopes: string[],
    refreshToken?: string,
  ): Promise<object> {
    const access = await this.tokens.signAccessToken({ subject, scopes, clientId });
    this.audit?.record({
      action: 'token.issued',
      outcome: 'ok',
      subject,
      target: clientId,
      ip,
      detail: {
        grant: refreshToken === undefined ? 'client_credentials' : 'refresh_token',
        scope: access.scope,
      },
    });
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresIn,
      scope: access.scope,
      ...(refreshToken !== undefined ? { refresh_token: refreshToken } : {}),
    };
  }
}

function lockedOut(retryAfterMs: number): OAuthError {
  return new OAuthError(
    'invalid_client',
    'Too many failed attempts for this client from this address; retry later',
    429,
    { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  );
}

/** The requested scopes if all are allowed, or all allowed ones when none was requested. */
function grantedScopes(requested: string | undefined, allowed: string[]): string[] {
  if (requested === undefined) {
    if (allowed.length === 0) throw new OAuthError('invalid_scope', 'no scope can be granted');
    return allowed;
  }
  const scopes = parseScopeString(requested);
  if (!scopes || scopes.length === 0) throw new OAuthError('invalid_scope', 'scope is malformed');
  const beyond = scopes.filter((scope) => !allowed.includes(scope));
  if (beyond.length > 0) {
    throw new OAuthError('invalid_scope', `not granted to this client: ${beyond.join(' ')}`);
  }
  return scopes;
}
