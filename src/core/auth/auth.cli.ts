import { DataSource } from 'typeorm';
import { SecurityAuditLog } from '../audit/security-audit.log.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { parseDuration } from '../config/duration.js';
import { buildDataSourceOptions } from '../database/database-url.js';
import { AuthSecrets, resolveJwtSecret } from './auth-secrets.js';
import { isLoopbackHost } from '../config/loopback-host.js';
import { ADMIN_SCOPE } from '../identity/caller.js';
import { OAuthClientEntity } from './oauth-client.entity.js';
import {
  OAuthClientService,
  type CreatedClient,
  type OAuthClientSummary,
} from './oauth-client.service.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';
import { signAccessToken } from './token.service.js';
import { parseScopeString } from './token-scopes.js';

// What the CLI (`token`, `clients …`, first run of `serve`) calls; each opens what it needs.

export interface MintTokenOptions {
  sub: string;
  /** Space-separated scopes. */
  scope: string;
  /** Milliseconds or a duration such as "1h" (default auth.jwt.accessTokenTtl). */
  ttl?: number | string;
}

/** An access token signed with the configured (or generated) secret, for operators. */
export async function mintToken(config: GatewayConfig, options: MintTokenOptions): Promise<string> {
  if (!options.sub.trim()) throw new Error('--sub must not be empty');
  const scopes = parseScopeString(options.scope);
  if (!scopes || scopes.length === 0)
    throw new Error('--scope must be one or more space-separated scopes');
  const ttlMs = options.ttl === undefined ? undefined : parseDuration(options.ttl);
  if (options.ttl !== undefined && (ttlMs === undefined || ttlMs < 1000)) {
    throw new Error('--ttl must be a duration such as "1h" (at least 1s)');
  }
  const secrets = AuthSecrets.fromConfig(config);
  const { token } = await signAccessToken(config, secrets.jwtKey, {
    subject: options.sub,
    scopes,
    ttlMs,
  });
  return token;
}

/** The dashboard URL carrying the token in the fragment, which browsers never send to a server. */
export function dashboardLink(baseUrl: string, token: string): string {
  const url = new URL(baseUrl);
  url.pathname = '/';
  url.search = '';
  url.hash = `token=${encodeURIComponent(token)}`;
  return url.toString();
}

export interface FirstRunAccess {
  token: string;
  url: string;
}

/**
 * On a gateway running with a generated secret (a fresh machine, `npm start`): an admin token
 * and the dashboard link to open. Undefined when the operator configured a secret, since then
 * tokens come from `openclaw-gateway token` or the token endpoint.
 */
export async function firstRunAccess(
  config: GatewayConfig,
  address: { host: string; port: number },
  ttl: number | string = '12h',
): Promise<FirstRunAccess | undefined> {
  if (config.auth.jwt.secret) return undefined;
  if (!isLoopbackHost(address.host)) return undefined;
  resolveJwtSecret(config);
  const token = await mintToken(config, { sub: 'admin', scope: ADMIN_SCOPE, ttl });
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return { token, url: dashboardLink(`http://${host}:${address.port}/`, token) };
}

/** Prints the first-run admin token and dashboard link; false when there is nothing to print. */
export async function printFirstRunAccess(
  config: GatewayConfig,
  address: { host: string; port: number },
  write: (line: string) => void = (line) => console.log(line),
): Promise<boolean> {
  const access = await firstRunAccess(config, address);
  if (!access) return false;
  write('No auth.jwt.secret is configured: a secret was generated for this machine.');
  write(`Admin token (12h): ${access.token}`);
  write(`Open the dashboard: ${access.url}`);
  return true;
}

async function withClients<T>(
  config: GatewayConfig,
  run: (clients: OAuthClientService) => Promise<T>,
): Promise<T> {
  const dataSource = new DataSource(
    buildDataSourceOptions(config.database.url, {
      migrationsRun: config.database.migrationsRun,
      entities: [OAuthClientEntity, RefreshTokenEntity],
    }),
  );
  await dataSource.initialize();
  const audit = new SecurityAuditLog(dataSource);
  try {
    return await run(new OAuthClientService(dataSource, undefined, audit));
  } finally {
    await audit.flush();
    await dataSource.destroy();
  }
}

/** `clients create`: the secret is returned once and stored only as a slow hash. */
export function createClient(
  config: GatewayConfig,
  input: { name: string; scopes: string[] | string },
): Promise<CreatedClient> {
  const scopes =
    typeof input.scopes === 'string' ? (parseScopeString(input.scopes) ?? []) : input.scopes;
  return withClients(config, (clients) => clients.create({ name: input.name, scopes }));
}

export function listClients(config: GatewayConfig): Promise<OAuthClientSummary[]> {
  return withClients(config, (clients) => clients.list());
}

/** Revokes a client and its refresh tokens; false when no active client has that id. */
export function revokeClient(config: GatewayConfig, clientId: string): Promise<boolean> {
  return withClients(config, (clients) => clients.revoke(clientId));
}
