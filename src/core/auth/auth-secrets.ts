import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { GatewayConfig } from '../config/gateway-config.js';
import { sqlitePath } from '../database/database-url.js';
import { isLoopbackHost } from '../config/loopback-host.js';
import { TokenLookupHasher } from './token-lookup.hasher.js';

export const JWT_SECRET_FILE = 'jwt-secret';

/** Where a generated secret lives: beside the SQLite database, else in ./data. */
export function dataDirectory(config: GatewayConfig): string {
  const url = config.database.url;
  if (url.startsWith('sqlite:')) {
    const path = sqlitePath(url);
    if (path !== ':memory:') return dirname(path);
  }
  return resolve('data');
}

export function jwtSecretPath(config: GatewayConfig): string {
  return join(dataDirectory(config), JWT_SECRET_FILE);
}

export interface JwtSecretResolution {
  secret: string;
  /** `config`: set by the operator; `generated`: read from or written to the data directory. */
  source: 'config' | 'generated';
  /** The file holding a generated secret. */
  path?: string;
  /** True when this call wrote the file. */
  created: boolean;
}

/**
 * The HS256 secret: the configured one, else one generated on first run into the data
 * directory (mode 0600) and reused afterwards.
 */
export function resolveJwtSecret(config: GatewayConfig): JwtSecretResolution {
  if (config.auth.jwt.secret)
    return { secret: config.auth.jwt.secret, source: 'config', created: false };
  const path = jwtSecretPath(config);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let created = false;
  try {
    // `wx`: never overwrite a secret another process has just written.
    writeFileSync(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const secret = readFileSync(path, 'utf8').trim();
  if (secret.length < 32) {
    throw new Error(
      `auth.jwt.secret: the generated secret in ${path} is shorter than 32 bytes; delete it`,
    );
  }
  return { secret, source: 'generated', path, created };
}

/**
 * The gateway's key material, resolved once at boot: the JWT signing secret and the keys that
 * protect refresh tokens at rest.
 */
export class AuthSecrets {
  private constructor(
    readonly jwt: JwtSecretResolution,
    readonly jwtKey: Uint8Array,
    readonly refreshTokens: TokenLookupHasher,
  ) {}

  /** For serving: refuses a generated secret on a host that others can reach. */
  static forServing(config: GatewayConfig, logger = new Logger('Auth')): AuthSecrets {
    if (!config.auth.jwt.secret && !isLoopbackHost(config.gateway.host)) {
      throw new Error(
        `auth.jwt.secret: refusing to serve on ${config.gateway.host} with a generated secret; ` +
          'set OPENCLAW_JWT_SECRET (at least 32 bytes) or bind a loopback address',
      );
    }
    const secrets = AuthSecrets.fromConfig(config);
    if (secrets.jwt.source === 'generated') {
      logger.warn(
        `auth.jwt.secret is not set: using the generated secret in ${secrets.jwt.path}` +
          (secrets.jwt.created ? ' (created now)' : '') +
          '; set OPENCLAW_JWT_SECRET before exposing the gateway',
      );
    }
    if (!config.auth.encryptionKey) {
      logger.warn(
        'auth.encryptionKey is not set: refresh tokens are hashed with a key derived from the ' +
          'JWT secret; set OPENCLAW_ENCRYPTION_KEY so the two can be rotated apart',
      );
    }
    return secrets;
  }

  static fromConfig(config: GatewayConfig): AuthSecrets {
    const jwt = resolveJwtSecret(config);
    // Without its own key, the refresh-token key is derived from the JWT secret (HKDF with a
    // distinct label), so the two are never the same bytes.
    const hasher = new TokenLookupHasher(config.auth.encryptionKey ?? `jwt-secret:${jwt.secret}`);
    return new AuthSecrets(jwt, new TextEncoder().encode(jwt.secret), hasher);
  }
}
