import { Injectable } from '@nestjs/common';
import { SignJWT } from 'jose/jwt/sign';
import { randomUUID } from 'node:crypto';
import { GatewayConfig } from '../config/gateway-config.js';
import { AuthSecrets } from './auth-secrets.js';

export interface AccessTokenRequest {
  subject: string;
  scopes: Iterable<string>;
  /** The OAuth client the token is issued to, if any (`client_id` claim). */
  clientId?: string;
  /** Lifetime in ms (default auth.jwt.accessTokenTtl). */
  ttlMs?: number;
}

export interface SignedAccessToken {
  token: string;
  /** Epoch ms. */
  expiresAt: number;
  /** Seconds, as OAuth's `expires_in`. */
  expiresIn: number;
  scope: string;
}

/** Signs an HS256 access token; shared by the token endpoint and the CLI. */
export async function signAccessToken(
  config: GatewayConfig,
  key: Uint8Array,
  request: AccessTokenRequest,
): Promise<SignedAccessToken> {
  const ttlMs = request.ttlMs ?? config.auth.jwt.accessTokenTtl;
  const expiresIn = Math.max(1, Math.round(ttlMs / 1000));
  const now = Math.floor(Date.now() / 1000);
  const scope = [...new Set(request.scopes)].join(' ');
  let jwt = new SignJWT({ scope, ...(request.clientId ? { client_id: request.clientId } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setSubject(request.subject)
    .setIssuedAt(now)
    .setExpirationTime(now + expiresIn)
    .setJti(randomUUID());
  const { issuer, audience } = config.auth.jwt;
  if (issuer) jwt = jwt.setIssuer(issuer);
  if (audience) jwt = jwt.setAudience(audience);
  return { token: await jwt.sign(key), expiresAt: (now + expiresIn) * 1000, expiresIn, scope };
}

/** Issues the gateway's own access tokens (HS256 with auth.jwt.secret). */
@Injectable()
export class TokenService {
  constructor(
    private readonly config: GatewayConfig,
    private readonly secrets: AuthSecrets,
  ) {}

  signAccessToken(request: AccessTokenRequest): Promise<SignedAccessToken> {
    return signAccessToken(this.config, this.secrets.jwtKey, request);
  }
}
