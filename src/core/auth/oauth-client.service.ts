import { Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, IsNull } from 'typeorm';
import { decoyHash, hashClientSecret, verifyClientSecret } from './client-secret.hasher.js';
import { OAuthClientEntity } from './oauth-client.entity.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';
import { SecurityAuditLog } from '../audit/security-audit.log.js';
import { RevokedClients } from './revoked-clients.js';
import { isScopeToken } from './token-scopes.js';

export interface CreatedClient {
  clientId: string;
  /** Shown once: only its hash is stored. */
  clientSecret: string;
}

export interface OAuthClientSummary {
  clientId: string;
  name: string;
  scopes: string[];
  createdAt: string;
  revokedAt: string | null;
}

export interface AuthenticatedClient {
  clientId: string;
  scopes: string[];
}

/** OAuth clients: created by the CLI, authenticated by the token endpoint. */
@Injectable()
export class OAuthClientService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    /** Absent in the CLI, whose revocation every gateway reads from the database. */
    @Optional() private readonly revokedClients?: RevokedClients,
    @Optional() private readonly audit?: SecurityAuditLog,
  ) {}

  async create(input: { name: string; scopes: string[] }): Promise<CreatedClient> {
    const name = input.name.trim();
    if (!name || name.length > 255) throw new Error('client name must be 1 to 255 characters');
    const scopes = [...new Set(input.scopes)];
    if (scopes.length === 0 || !scopes.every(isScopeToken)) {
      throw new Error('client scopes must be one or more scope tokens');
    }
    const clientId = `ocl_${randomBytes(12).toString('base64url')}`;
    const clientSecret = `ocs_${randomBytes(32).toString('base64url')}`;
    await this.clients.insert({
      clientId,
      name,
      secretHash: await hashClientSecret(clientSecret),
      scopes: scopes.join(' '),
      createdAt: new Date().toISOString(),
      revokedAt: null,
    });
    this.audit?.record({
      action: 'client.created',
      outcome: 'ok',
      target: clientId,
      detail: { name, scopes },
    });
    return { clientId, clientSecret };
  }

  async list(): Promise<OAuthClientSummary[]> {
    const rows = await this.clients.find({ order: { createdAt: 'ASC', clientId: 'ASC' } });
    return rows.map((row) => ({
      clientId: row.clientId,
      name: row.name,
      scopes: row.scopes.split(' ').filter(Boolean),
      createdAt: row.createdAt,
      revokedAt: row.revokedAt,
    }));
  }

  /**
   * Revokes the client and every refresh token issued to it; its access tokens are refused from
   * then on (RevokedClients). False when no active client has that id.
   */
  async revoke(clientId: string): Promise<boolean> {
    const now = new Date().toISOString();
    const revoked = await this.dataSource.transaction(async (manager) => {
      const result = await manager.update(
        OAuthClientEntity,
        { clientId, revokedAt: IsNull() },
        { revokedAt: now },
      );
      await manager.update(
        RefreshTokenEntity,
        { clientId, revokedAt: IsNull() },
        { revokedAt: now },
      );
      return (result.affected ?? 0) > 0;
    });
    if (revoked) this.revokedClients?.markRevoked(clientId);
    this.audit?.record({
      action: 'client.revoked',
      outcome: revoked ? 'ok' : 'failed',
      target: clientId,
    });
    return revoked;
  }

  /**
   * The client if the secret matches and it is not revoked. An unknown id costs the same scrypt
   * as a known one, so response time does not tell which ids exist.
   */
  async authenticate(clientId: string, secret: string): Promise<AuthenticatedClient | undefined> {
    const row = clientId.length <= 64 ? await this.clients.findOneBy({ clientId }) : null;
    const matches = await verifyClientSecret(secret, row?.secretHash ?? (await decoyHash()));
    if (!row || !matches || row.revokedAt !== null) return undefined;
    return { clientId: row.clientId, scopes: row.scopes.split(' ').filter(Boolean) };
  }

  private get clients() {
    return this.dataSource.getRepository(OAuthClientEntity);
  }
}
