import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { webcrypto } from 'node:crypto';
import type { JWTPayload, JWTVerifyGetKey, ProtectedHeaderParameters } from 'jose';
// jose's subpaths, not its index: the index loads all of JWE, JWK and key generation at boot.
import { decodeProtectedHeader } from 'jose/decode/protected_header';
import * as errors from 'jose/errors';
import { createRemoteJWKSet } from 'jose/jwks/remote';
import { jwtVerify } from 'jose/jwt/verify';
import { GatewayConfig } from '../config/gateway-config.js';
import { AUTH_MODULE_OPTIONS, type AuthModuleOptions } from './auth-module.options.js';
import { AuthSecrets } from './auth-secrets.js';
import type { Caller } from '../identity/caller.js';
import { MAX_CREDENTIAL_LENGTH } from './bearer-token.js';
import { InvalidTokenError } from './invalid-token.error.js';
import { RevokedClients } from './revoked-clients.js';
import { scopesFromClaims } from './token-scopes.js';
import { SharedScopeSets } from './shared-scope-sets.js';
import { VerifiedTokenCache } from './verified-token.cache.js';

/** Three base64url segments, none empty: a stripped signature is not a JWT here. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Algorithms verified with the identity provider's JWKS; HS256 only ever with our secret. */
const JWKS_ALGORITHMS = new Set(['RS256', 'ES256']);

/** `typ` header values of an access token (RFC 9068 and the common default). */
const ACCESS_TOKEN_TYPES = new Set(['jwt', 'at+jwt', 'application/at+jwt']);

/** Payload `typ` values identity providers put in access tokens (Keycloak: "Bearer"). */
const ACCESS_PAYLOAD_TYPES = new Set(['bearer', 'access', 'at+jwt', 'jwt']);

/** How long an identity provider's verified token is trusted before its key is looked at again. */
const JWKS_TOKEN_CACHE_MS = 60_000;

interface VerifiedToken {
  caller: Caller;
  /** The gateway's own OAuth client the token was issued to: refused once it is revoked. */
  ownClientId?: string;
}

/**
 * Verifies access tokens: HS256 with the gateway's secret, or RS256/ES256 with the configured
 * JWKS. The algorithm picks the key, and each key accepts exactly its own algorithms, so
 * `alg: none` and an HS token keyed with a public key fail. Header parameters that point
 * elsewhere (`kid`, `jku`, `x5u`, `jwk`) never cause I/O: keys come only from the secret or the
 * configured JWKS URL.
 */
@Injectable()
export class AccessTokenVerifier {
  private readonly logger = new Logger('Auth');
  private readonly jwks?: JWTVerifyGetKey;
  private readonly verified = new VerifiedTokenCache<VerifiedToken>();
  /** Callers with the same scopes share a set (thousands of open WebSockets hold callers). */
  private readonly scopeSets = new SharedScopeSets();
  /** Imported once: handing jose raw bytes makes it import the key again on every call. */
  private hmacKey?: Promise<webcrypto.CryptoKey>;

  constructor(
    private readonly config: GatewayConfig,
    private readonly secrets: AuthSecrets,
    @Optional() @Inject(AUTH_MODULE_OPTIONS) options?: AuthModuleOptions,
    @Optional() private readonly revokedClients?: RevokedClients,
  ) {
    const { jwksUrl } = config.auth.jwt;
    if (jwksUrl) {
      this.jwks = createRemoteJWKSet(new URL(jwksUrl), {
        cooldownDuration: options?.jwks?.cooldownMs ?? 30_000,
        cacheMaxAge: options?.jwks?.cacheMaxAgeMs ?? 600_000,
        timeoutDuration: options?.jwks?.timeoutMs ?? 5_000,
      });
    }
  }

  /**
   * The caller of a token verified before, when nothing needs looking up (its signature is cached
   * and its client's status is known): the answer of verify() without a promise. Undefined means
   * "ask verify()", never "invalid".
   */
  cachedCaller(token: string): Caller | undefined {
    const verified = this.verified.get(token);
    if (!verified) return undefined;
    if (verified.ownClientId === undefined || !this.revokedClients) return verified.caller;
    return this.revokedClients.knownActive(verified.ownClientId) ? verified.caller : undefined;
  }

  /**
   * The caller a token stands for; throws InvalidTokenError for anything short of valid. A token
   * verified here is remembered for the next call that brings it, unless `remember` is false (a
   * WebSocket's upgrade: the socket keeps its caller, and the entry would only add to what every
   * idle socket costs).
   */
  async verify(token: string, { remember = true }: { remember?: boolean } = {}): Promise<Caller> {
    if (token.length > MAX_CREDENTIAL_LENGTH) throw InvalidTokenError.invalid('token too large');
    if (!COMPACT_JWS.test(token)) throw InvalidTokenError.invalid('not a compact JWS');
    // The revocation check runs on cached tokens too: a cached signature is no reason to honour
    // a revoked client.
    const verified = this.verified.get(token) ?? (await this.verifySignedToken(token, remember));
    if (verified.ownClientId !== undefined && this.revokedClients) {
      if (await this.revokedClients.isRevoked(verified.ownClientId)) {
        throw InvalidTokenError.invalid(`client ${verified.ownClientId} is revoked`);
      }
    }
    return verified.caller;
  }

  private async verifySignedToken(token: string, remember: boolean): Promise<VerifiedToken> {
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw InvalidTokenError.invalid('undecodable header');
    }
    const alg = header.alg;
    const fromJwks = typeof alg === 'string' && JWKS_ALGORITHMS.has(alg) && this.jwks !== undefined;
    if (alg !== 'HS256' && !fromJwks)
      throw InvalidTokenError.invalid(`algorithm ${String(alg)} refused`);
    if (typeof header.typ === 'string' && !ACCESS_TOKEN_TYPES.has(header.typ.toLowerCase())) {
      throw InvalidTokenError.invalid(`typ ${header.typ} is not an access token`);
    }

    const { issuer, audience, clockTolerance } = this.config.auth.jwt;
    let payload: JWTPayload;
    try {
      const options = {
        algorithms: [alg],
        issuer,
        audience,
        clockTolerance: clockTolerance / 1000,
        requiredClaims: ['exp', 'sub'],
      };
      const jwks = fromJwks ? this.jwks : undefined;
      ({ payload } = jwks
        ? await jwtVerify(token, jwks, options)
        : await jwtVerify(token, await this.secretKey(), options));
    } catch (err) {
      throw this.refusal(err);
    }

    const now = Date.now() / 1000;
    if (typeof payload.iat === 'number' && payload.iat > now + clockTolerance / 1000) {
      throw InvalidTokenError.invalid('iat is in the future');
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      throw InvalidTokenError.invalid('sub is missing');
    }
    if (isRefreshToken(payload))
      throw InvalidTokenError.invalid('a refresh token is not an access token');

    // Our own tokens always carry `scope`; the configured claim is for the identity provider's.
    const scopes = this.scopeSets.of(
      fromJwks
        ? scopesFromClaims(payload, this.config.auth.jwt)
        : scopesFromClaims(payload, { scopeClaim: 'scope', roleScopes: {} }),
    );
    const clientId =
      typeof payload.client_id === 'string'
        ? payload.client_id
        : typeof payload.azp === 'string'
          ? payload.azp
          : undefined;
    const expiresAt = payload.exp! * 1000;
    const caller: Caller = {
      subject: payload.sub,
      scopes,
      ...(clientId !== undefined ? { clientId } : {}),
      expiresAt,
    };
    // `client_id` in the gateway's own tokens names one of its OAuth clients (token endpoint).
    const ownClientId =
      !fromJwks && typeof payload.client_id === 'string' ? payload.client_id : undefined;
    const verified: VerifiedToken = { caller, ...(ownClientId ? { ownClientId } : {}) };
    if (!remember) return verified;
    this.verified.set(
      token,
      verified,
      fromJwks ? Math.min(expiresAt, Date.now() + JWKS_TOKEN_CACHE_MS) : expiresAt,
    );
    return verified;
  }

  private secretKey(): Promise<webcrypto.CryptoKey> {
    this.hmacKey ??= webcrypto.subtle.importKey(
      'raw',
      this.secrets.jwtKey,
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    return this.hmacKey;
  }

  private refusal(err: unknown): InvalidTokenError {
    if (err instanceof errors.JWTExpired) return InvalidTokenError.expired();
    if (err instanceof errors.JOSEError) {
      if (err instanceof errors.JWKSTimeout || err.code === 'ERR_JOSE_GENERIC') {
        // The identity provider is unreachable or answered nonsense: worth an operator's look.
        this.logger.warn({ err }, 'JWKS could not be fetched');
      }
      return InvalidTokenError.invalid(`${err.code}: ${err.message}`);
    }
    if (err instanceof TypeError || err instanceof SyntaxError) {
      return InvalidTokenError.invalid(err.message);
    }
    this.logger.warn({ err }, 'token verification failed unexpectedly');
    return InvalidTokenError.invalid('verification failed');
  }
}

/** Marks of a refresh token that an identity provider may have issued as a JWT. */
function isRefreshToken(payload: JWTPayload): boolean {
  const typ = payload.typ;
  if (typeof typ === 'string' && !ACCESS_PAYLOAD_TYPES.has(typ.toLowerCase())) return true;
  const use = payload.token_use ?? payload.token_type;
  if (
    use !== undefined &&
    (typeof use !== 'string' || !['access', 'access_token'].includes(use.toLowerCase()))
  ) {
    return true;
  }
  return payload.refresh === true;
}
