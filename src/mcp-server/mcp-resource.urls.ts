import type { FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../core/config/gateway-config.js';

export const MCP_PATH = '/mcp';
export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';

/** A Host header fit to echo in a URL; anything else is replaced, never reflected. */
const SAFE_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

export interface McpResourceUrls {
  /** The protected resource: the /mcp endpoint (RFC 9728 `resource`). */
  resource: string;
  /** Where its metadata is served, named in every 401 challenge. */
  metadata: string;
  /** The gateway's base URL. */
  base: string;
}

/**
 * The public URLs of the MCP endpoint. `mcp.publicUrl` when set (behind a proxy or TLS
 * terminator the request does not know them); else the scheme and Host of the request.
 */
export function mcpResourceUrls(config: GatewayConfig, request: FastifyRequest): McpResourceUrls {
  const base = (config.mcp.publicUrl ?? requestBase(config, request)).replace(/\/+$/, '');
  return {
    base,
    resource: `${base}${MCP_PATH}`,
    metadata: `${base}${PROTECTED_RESOURCE_PATH}`,
  };
}

function requestBase(config: GatewayConfig, request: FastifyRequest): string {
  const host = SAFE_HOST.test(request.host)
    ? request.host
    : `${config.gateway.host}:${config.gateway.port}`;
  return `${request.protocol}://${host}`;
}
