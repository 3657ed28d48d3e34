import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { hasScope, type Caller } from '../core/identity/caller.js';

export const TOOLS_READ_SCOPE = 'tools:read';
export const TOOLS_EXECUTE_SCOPE = 'tools:execute';

/** The scopes an MCP client may ask for at this resource (protected-resource metadata). */
export const MCP_SCOPES = [TOOLS_READ_SCOPE, TOOLS_EXECUTE_SCOPE] as const;

/** The scope each MCP method needs, like the JSON-RPC methods they stand for. */
const METHOD_SCOPES: Readonly<Record<string, string>> = {
  'tools/list': TOOLS_READ_SCOPE,
  'tools/call': TOOLS_EXECUTE_SCOPE,
};

/**
 * The first scope a POST body's requests need and the caller lacks, or undefined. Checked
 * before the body reaches the MCP server, so that a refusal is HTTP 403 with an
 * `insufficient_scope` challenge (what MCP clients act on) rather than a buried JSON-RPC error.
 */
export function missingScope(caller: Caller, body: unknown): string | undefined {
  for (const message of Array.isArray(body) ? body : [body]) {
    const method = (message as { method?: unknown } | null)?.method;
    if (typeof method !== 'string' || !Object.hasOwn(METHOD_SCOPES, method)) continue;
    const scope = METHOD_SCOPES[method];
    if (!hasScope(caller, scope)) return scope;
  }
  return undefined;
}

const CALLER_KEY = 'openclaw.caller';

/** The caller as the SDK's AuthInfo, which the transport hands to each request's handler. */
export function toAuthInfo(caller: Caller): AuthInfo {
  return {
    // Handlers never need the credential itself; it stays out of the SDK's objects.
    token: '',
    clientId: caller.clientId ?? caller.subject,
    scopes: [...caller.scopes],
    ...(caller.expiresAt !== undefined ? { expiresAt: Math.floor(caller.expiresAt / 1000) } : {}),
    extra: { [CALLER_KEY]: caller },
  };
}

/** The caller that toAuthInfo put on a request, if any. */
export function callerFromAuthInfo(info: AuthInfo | undefined): Caller | undefined {
  const caller = info?.extra?.[CALLER_KEY] as Caller | undefined;
  return typeof caller?.subject === 'string' && caller.scopes instanceof Set ? caller : undefined;
}
