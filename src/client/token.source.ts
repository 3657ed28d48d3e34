import { RpcErrorCode } from '../core/rpc/rpc-error-code.js';
import { tokenExpiry } from './jwt-expiry.js';
import { RpcError } from './rpc.error.js';
import { TokenRequestError } from './token-request.error.js';

/** Where the client's access tokens come from: exactly one of these. */
export type TokenOptions =
  | { token: string }
  | { getToken: () => string | Promise<string> }
  | { clientId: string; clientSecret: string; scope?: string };

interface CachedToken {
  token: string;
  /** Epoch ms; undefined for a token without `exp`. */
  expiresAt?: number;
  /** When the client should have a new one (epoch ms). */
  refreshAt?: number;
}

/** Never plan a refresh closer than this to the previous one, whatever a provider returns. */
const MIN_REFRESH_INTERVAL_MS = 1000;

/**
 * Gives the client a valid access token and says when to get the next one: a fixed token, a
 * `getToken()` callback (called again when the token nears its `exp`), or client credentials
 * exchanged at `/auth/token`. A token is refreshed when a quarter of its life is left, at most
 * a minute before `exp`.
 */
export class TokenSource {
  private cached?: CachedToken;
  private inFlight?: Promise<string>;

  constructor(
    private readonly options: TokenOptions,
    private readonly tokenUrl: string,
    private readonly fetchFn: typeof fetch,
  ) {}

  /** A fixed token cannot be replaced: when it expires, the client stops. */
  get refreshable(): boolean {
    return !('token' in this.options);
  }

  /** A token good for now: the cached one, or a new one when it nears its expiry. */
  async get(): Promise<string> {
    const cached = this.cached;
    if (cached && (cached.refreshAt === undefined || Date.now() < cached.refreshAt)) {
      return cached.token;
    }
    if ('token' in this.options) {
      const token = this.options.token;
      const expiresAt = tokenExpiry(token);
      if (expiresAt !== undefined && expiresAt <= Date.now()) {
        throw new RpcError(RpcErrorCode.Unauthenticated, 'Token expired');
      }
      this.cached = { token, expiresAt };
      return token;
    }
    return this.refresh();
  }

  /** A new token now (the previous one is kept until the new one arrives). */
  refresh(): Promise<string> {
    this.inFlight ??= this.obtain().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** Forgets the cached token: it was refused. */
  invalidate(): void {
    if (this.refreshable) this.cached = undefined;
  }

  /** When the current token should be replaced (epoch ms), if it ever should. */
  get refreshAt(): number | undefined {
    return this.refreshable ? this.cached?.refreshAt : undefined;
  }

  /** When the current token expires (epoch ms). */
  get expiresAt(): number | undefined {
    return this.cached?.expiresAt;
  }

  private async obtain(): Promise<string> {
    const obtainedAt = Date.now();
    let token: string;
    let expiresAt: number | undefined;
    if ('getToken' in this.options) {
      token = await this.options.getToken();
      expiresAt = tokenExpiry(token);
    } else if ('clientId' in this.options) {
      ({ token, expiresAt } = await this.clientCredentials(this.options));
    } else {
      return this.options.token;
    }
    const previous = this.cached?.refreshAt;
    let refreshAt: number | undefined;
    if (expiresAt !== undefined) {
      const margin = Math.min(60_000, Math.max(0, expiresAt - obtainedAt) / 4);
      refreshAt = Math.max(expiresAt - margin, (previous ?? 0) + MIN_REFRESH_INTERVAL_MS);
    }
    this.cached = { token, expiresAt, refreshAt };
    return token;
  }

  private async clientCredentials(options: {
    clientId: string;
    clientSecret: string;
    scope?: string;
  }): Promise<{ token: string; expiresAt?: number }> {
    const response = await this.fetchFn(this.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: options.clientId,
        client_secret: options.clientSecret,
        ...(options.scope === undefined ? {} : { scope: options.scope }),
      }),
    });
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: unknown;
      expires_in?: unknown;
      error?: unknown;
      error_description?: unknown;
    };
    if (!response.ok || typeof body.access_token !== 'string') {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new TokenRequestError(
        typeof body.error_description === 'string'
          ? body.error_description
          : `The token endpoint answered ${response.status}`,
        response.status,
        typeof body.error === 'string' ? body.error : undefined,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
      );
    }
    const fromClaim = tokenExpiry(body.access_token);
    const fromBody =
      typeof body.expires_in === 'number' ? Date.now() + body.expires_in * 1000 : undefined;
    return { token: body.access_token, expiresAt: fromClaim ?? fromBody };
  }
}
