import { isLoopbackHost } from './loopback-host.js';

/** What the JWKS settings need to be trusted with. */
export interface JwksSettings {
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

/**
 * Why `auth.jwt.jwksUrl` cannot be used as configured, or undefined when it can. A corporate
 * identity provider signs tokens for every application it serves: without `issuer` and
 * `audience` the gateway would accept all of them. Keys fetched over plain HTTP could be swapped
 * on the way, so only loopback (a test IdP, a local sidecar) may skip TLS.
 */
export function jwksUrlProblem(settings: JwksSettings): string | undefined {
  const { jwksUrl, issuer, audience } = settings;
  if (jwksUrl === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(jwksUrl);
  } catch {
    return 'must be an https:// URL';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    return 'must be an https:// URL (http:// only for a loopback host)';
  }
  const missing = [!issuer && 'auth.jwt.issuer', !audience && 'auth.jwt.audience'].filter(Boolean);
  if (missing.length > 0) {
    return `needs ${missing.join(' and ')} too, or any token the identity provider mints for another application is accepted`;
  }
  return undefined;
}
