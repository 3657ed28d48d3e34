import { Controller, Logger, Post, Req, Res } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { RATE_LIMIT_STORE, type RateLimitStore } from '../rate-limit/rate-limit.store.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OAuthClientService, type AuthenticatedClient } from './oauth-client.service.js';
import { OAuthError } from './oauth.error.js';
import { Public } from './public.decorator.js';
import { RefreshTokenService } from './refresh-token.service.js';
import { TokenService } from './token.service.js';
import { parseScopeString } from './token-scopes.js';

type Params = Record<string, string>;

/** Token requests one client id may make per window, successful or not. */
const CLIENT_ATTEMPT_LIMIT = 60;
const CLIENT_ATTEMPT_WINDOW_MS = 60_000;

/**
 * The OAuth 2.0 token endpoint (RFC 6749 §3.2): client_credentials and rotating refresh_token
 * grants, JSON or form bodies (Nest's Fastify adapter parses urlencoded bodies itself).
 */
@Controller('auth')
export class AuthTokenController {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly clients: OAuthClientService,
    private readonly refreshTokens: RefreshTokenService,
    private readonly tokens: TokenService,
    private readonly moduleRef: ModuleRef,
  ) {}

  /**
   * Guessing a client's secret is throttled per client id (the per-IP limit is the throttler's):
   * attempts for one id are counted in the shared rate-limit store, so instances agree.
   */
  private async checkClientAttempts(clientId: string): Promise<void> {
    let store: RateLimitStore;
    try {
      store = this.moduleRef.get<RateLimitStore>(RATE_LIMIT_STORE, { strict: false });
    } catch {
      return;
    }
    const record = await store.increment(
      `auth-client:${clientId}`,
      CLIENT_ATTEMPT_WINDOW_MS,
      CLIENT_ATTEMPT_LIMIT,
      CLIENT_ATTEMPT_WINDOW_MS,
      'auth-client',
    );
    if (record.isBlocked) {
      throw new OAuthError(
        'invalid_client',
        'Too many attempts for this client; retry later',
        429,
        {
          'Retry-After': String(Math.max(1, Math.ceil(record.timeToExpireMs / 1000))),
        },
      );
    }
  }

  @Public()
  @Post('token')
  async token(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // Token responses must never be cached (RFC 6749 §5.1).
    void reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    try {
      const params = parseParams(request.body);
      const client = await this.authenticateClient(request, params);
      const body =
        params.grant_type === 'client_credentials'
          ? await this.clientCredentials(client, params)
          : await this.refresh(client, params);
      await reply.status(200).type('application/json').send(JSON.stringify(body));
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      this.logger.debug({ error: err.error, ip: request.ip }, 'token request refused');
      for (const [name, value] of Object.entries(err.headers)) void reply.header(name, value);
      if (err.error === 'invalid_client' && request.headers.authorization !== undefined) {
        void reply.header('WWW-Authenticate', 'Basic realm="openclaw-gateway"');
      }
      await reply.status(err.status).type('application/json').send(JSON.stringify(err.toBody()));
    }
  }

  private async authenticateClient(
    request: FastifyRequest,
    params: Params,
  ): Promise<AuthenticatedClient> {
    const grantType = params.grant_type;
    if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grantType !== 'client_credentials' && grantType !== 'refresh_token') {
      throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
    }
    const basic = basicCredentials(request.headers.authorization);
    const inBody = params.client_id !== undefined || params.client_secret !== undefined;
    if (basic && inBody) {
      throw new OAuthError('invalid_request', 'use one client authentication method, not two');
    }
    const clientId = basic?.id ?? params.client_id;
    const secret = basic?.secret ?? params.client_secret;
    if (!clientId || !secret)
      throw new OAuthError('invalid_client', 'Client authentication failed');
    await this.checkClientAttempts(clientId);
    const client = await this.clients.authenticate(clientId, secret);
    if (!client) throw new OAuthError('invalid_client', 'Client authentication failed');
    return client;
  }

  private async clientCredentials(client: AuthenticatedClient, params: Params): Promise<object> {
    const scopes = grantedScopes(params.scope, client.scopes);
    const refreshToken = await this.refreshTokens.issue({
      clientId: client.clientId,
      subject: client.clientId,
      scopes,
    });
    return this.tokenResponse(client.clientId, client.clientId, scopes, refreshToken);
  }

  private async refresh(client: AuthenticatedClient, params: Params): Promise<object> {
    if (!params.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required');
    const { grant, refreshToken } = await this.refreshTokens.rotate(
      params.refresh_token,
      client.clientId,
    );
    // Never more than the original grant, nor more than the client holds today.
    const allowed = grant.scopes.filter((scope) => client.scopes.includes(scope));
    const scopes = grantedScopes(params.scope, allowed);
    return this.tokenResponse(grant.subject, client.clientId, scopes, refreshToken);
  }

  private async tokenResponse(
    subject: string,
    clientId: string,
    scopes: string[],
    refreshToken: string,
  ): Promise<object> {
    const access = await this.tokens.signAccessToken({ subject, scopes, clientId });
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresIn,
      scope: access.scope,
      refresh_token: refreshToken,
    };
  }
}

function parseParams(body: unknown): Params {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OAuthError('invalid_request', 'the body must be a form or a JSON object');
  }
  const params: Params = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    // A repeated parameter is refused (RFC 6749 §3.2), as is anything but a string.
    if (typeof value !== 'string')
      throw new OAuthError('invalid_request', `${key} must be a single string`);
    params[key] = value;
  }
  return params;
}

/** client_secret_basic: both parts are form-urlencoded before base64 (RFC 6749 §2.3.1). */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = header ? /^Basic +([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) {
    if (header !== undefined)
      throw new OAuthError('invalid_client', 'Client authentication failed');
    return undefined;
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new OAuthError('invalid_client', 'Client authentication failed');
  try {
    const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));
    return { id: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
  } catch {
    throw new OAuthError('invalid_client', 'Client authentication failed');
  }
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
