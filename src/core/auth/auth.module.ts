import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GatewayConfig } from '../config/gateway-config.js';
import { RpcModule } from '../rpc/rpc.module.js';
import { WS_UPGRADE_AUTHENTICATOR } from '../ws/ws-upgrade-authenticator.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { AuthSecrets } from './auth-secrets.js';
import { AuthTokenController } from './auth-token.controller.js';
import { BearerUpgradeAuthenticator } from './bearer-upgrade.authenticator.js';
import { ClientAuthFailures } from './client-auth-failures.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { OAuthClientEntity } from './oauth-client.entity.js';
import { OAuthClientService } from './oauth-client.service.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';
import { RefreshTokenService } from './refresh-token.service.js';
import { RevokedClients } from './revoked-clients.js';
import { TokenService } from './token.service.js';

/**
 * Authentication for the whole gateway: JwtAuthGuard on every call and route, the WebSocket
 * upgrade check, and the OAuth token endpoint with its clients and refresh tokens.
 * GatewayModule imports it; its options arrive as GatewayModuleOptions.auth.
 * Global because the WebSocket transport (core/ws, which auth builds on) takes the upgrade
 * authenticator with @Optional(): it plugs in when this module is imported.
 */
@Global()
@Module({
  imports: [RpcModule, TypeOrmModule.forFeature([OAuthClientEntity, RefreshTokenEntity])],
  controllers: [AuthTokenController],
  providers: [
    {
      provide: AuthSecrets,
      inject: [GatewayConfig],
      useFactory: (config: GatewayConfig) => AuthSecrets.forServing(config),
    },
    AccessTokenVerifier,
    TokenService,
    OAuthClientService,
    RefreshTokenService,
    RevokedClients,
    ClientAuthFailures,
    BearerUpgradeAuthenticator,
    { provide: WS_UPGRADE_AUTHENTICATOR, useExisting: BearerUpgradeAuthenticator },
    { provide: APP_GUARD, useClass: JwtAuthGuard },
  ],
  exports: [AccessTokenVerifier, TokenService, OAuthClientService, WS_UPGRADE_AUTHENTICATOR],
})
export class AuthModule {}
