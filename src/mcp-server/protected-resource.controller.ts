import { Controller, Get, Header, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Public } from '../core/identity/public.decorator.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { MCP_SCOPES } from './mcp-scopes.js';
import { MCP_PATH, mcpResourceUrls, PROTECTED_RESOURCE_PATH } from './mcp-resource.urls.js';

/** OAuth 2.0 Protected Resource Metadata (RFC 9728) of the MCP endpoint. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: string[];
  scopes_supported: string[];
  resource_name: string;
}

/**
 * Tells an MCP client which authorization server issues tokens for /mcp: the configured JWT
 * issuer (a corporate identity provider), else the gateway itself (`POST /auth/token`). Served
 * at the root form and at the form with the resource's path (`…/oauth-protected-resource/mcp`),
 * which clients try first.
 */
@Controller(PROTECTED_RESOURCE_PATH.slice(1))
export class ProtectedResourceController {
  constructor(private readonly config: GatewayConfig) {}

  @Public()
  @Get()
  @Header('cache-control', 'no-store')
  metadata(@Req() request: FastifyRequest): ProtectedResourceMetadata {
    const { base, resource } = mcpResourceUrls(this.config, request);
    return {
      resource,
      authorization_servers: [this.config.auth.jwt.issuer ?? base],
      bearer_methods_supported: ['header'],
      scopes_supported: [...MCP_SCOPES],
      resource_name: 'openclaw-gateway MCP server',
    };
  }

  @Public()
  @Get(MCP_PATH.slice(1))
  @Header('cache-control', 'no-store')
  metadataForMcp(@Req() request: FastifyRequest): ProtectedResourceMetadata {
    return this.metadata(request);
  }
}
