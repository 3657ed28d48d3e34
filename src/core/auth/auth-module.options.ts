/** Tuning of authentication (GatewayModuleOptions.auth); the defaults suit production. */
export interface AuthModuleOptions {
  jwks?: {
    /** Least time between two JWKS fetches caused by an unknown `kid` (default 30 s). */
    cooldownMs?: number;
    /** How long fetched keys are trusted before a refetch (default 10 min). */
    cacheMaxAgeMs?: number;
    /** Timeout of one JWKS fetch (default 5 s). */
    timeoutMs?: number;
  };
}

export const AUTH_MODULE_OPTIONS = Symbol('openclaw:auth-module-options');
