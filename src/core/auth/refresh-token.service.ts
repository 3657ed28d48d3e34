import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { GatewayConfig } from '../config/gateway-config.js';
import { AuthSecrets } from './auth-secrets.js';
import { OAuthError } from './oauth.error.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';

export interface RefreshGrant {
  familyId: string;
  clientId: string;
  subject: string;
  scopes: string[];
}

const TOKEN_PREFIX = 'ocr_';

/**
 * Rotating refresh tokens (RFC 9700 §4.14): opaque, 256 bits, single use. Presenting a used
 * token revokes its whole family; of two parallel exchanges of one token at most one wins,
 * decided by a conditional UPDATE.
 */
@Injectable()
export class RefreshTokenService {
  private readonly logger = new Logger('Auth');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secrets: AuthSecrets,
    private readonly config: GatewayConfig,
  ) {}

  /** Starts a new family. */
  issue(grant: Omit<RefreshGrant, 'familyId'>): Promise<string> {
    return this.insert(this.dataSource.manager, { ...grant, familyId: randomUUID() });
  }

  /** Exchanges a refresh token for its successor; throws invalid_grant for anything else. */
  async rotate(
    token: string,
    clientId: string,
  ): Promise<{ grant: RefreshGrant; refreshToken: string }> {
    const invalid = new OAuthError(
      'invalid_grant',
      'The refresh token is invalid, expired or revoked',
    );
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 256) throw invalid;
    const row = await this.tokens.findOneBy({
      lookupHash: this.secrets.refreshTokens.lookupHash(token),
    });
    if (!row || row.clientId !== clientId || row.revokedAt !== null) throw invalid;
    if (row.usedAt !== null) {
      await this.revokeFamily(row.familyId, 'a used refresh token was presented again');
      throw invalid;
    }
    const now = new Date().toISOString();
    if (row.expiresAt <= now) throw invalid;

    const grant: RefreshGrant = {
      familyId: row.familyId,
      clientId: row.clientId,
      subject: row.subject,
      scopes: row.scopes.split(' ').filter(Boolean),
    };
    // Marking the old token used and inserting its successor commit together, so a concurrent
    // family revocation that sees the mark also sees (and revokes) the successor.
    const refreshToken = await this.dataSource.transaction(async (manager) => {
      const claimed = await manager
        .createQueryBuilder()
        .update(RefreshTokenEntity)
        .set({ usedAt: now })
        .where('id = :id AND used_at IS NULL AND revoked_at IS NULL', { id: row.id })
        .execute();
      if (claimed.affected !== 1) return undefined;
      return this.insert(manager, grant);
    });
    if (refreshToken === undefined) {
      await this.revokeFamily(row.familyId, 'a refresh token was exchanged twice concurrently');
      throw invalid;
    }
    return { grant, refreshToken };
  }

  private async revokeFamily(familyId: string, why: string): Promise<void> {
    await this.tokens.update(
      { familyId, revokedAt: IsNull() },
      { revokedAt: new Date().toISOString() },
    );
    this.logger.warn({ familyId }, `refresh token family revoked: ${why}`);
  }

  private async insert(manager: EntityManager, grant: RefreshGrant): Promise<string> {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const id = randomUUID();
    const now = Date.now();
    await manager.insert(RefreshTokenEntity, {
      id,
      familyId: grant.familyId,
      clientId: grant.clientId,
      subject: grant.subject,
      scopes: grant.scopes.join(' '),
      lookupHash: this.secrets.refreshTokens.lookupHash(token),
      tokenCiphertext: this.secrets.refreshTokens.encrypt(token, id),
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.config.auth.jwt.refreshTokenTtl).toISOString(),
      usedAt: null,
      revokedAt: null,
    });
    return token;
  }

  private get tokens() {
    return this.dataSource.getRepository(RefreshTokenEntity);
  }
}
