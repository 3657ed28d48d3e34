import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { SecurityAuditLog } from '../audit/security-audit.log.js';
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
/** How often expired and revoked rows are deleted, and how many at most per statement. */
const PURGE_INTERVAL_MS = 10 * 60_000;
const PURGE_BATCH = 1000;
/** A purge pass stops after this many batches and resumes at the next interval. */
const PURGE_MAX_BATCHES = 20;

/**
 * Rotating refresh tokens (RFC 9700 §4.14): opaque, 256 bits, single use. Presenting a used
 * token revokes its whole family; of two parallel exchanges of one token at most one wins,
 * decided by a conditional UPDATE. A family ends at its absolute expiry however often it
 * rotates, and rows that can no longer be exchanged are purged in bounded batches.
 */
@Injectable()
export class RefreshTokenService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Auth');
  private timer?: NodeJS.Timeout;
  private purging?: Promise<number>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secrets: AuthSecrets,
    private readonly config: GatewayConfig,
    @Optional() private readonly audit?: SecurityAuditLog,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.purge().catch((err: unknown) =>
        this.logger.warn({ err }, 'refresh tokens could not be purged'),
      );
    }, PURGE_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.purging?.catch(() => undefined);
  }

  /** Starts a new family, which ends auth.jwt.refreshFamilyTtl from now. */
  issue(grant: Omit<RefreshGrant, 'familyId'>): Promise<string> {
    const familyExpiresAt = new Date(Date.now() + this.config.auth.jwt.refreshFamilyTtl);
    return this.insert(
      this.dataSource.manager,
      { ...grant, familyId: randomUUID() },
      familyExpiresAt.toISOString(),
    );
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
      await this.revokeFamily(row, 'a used refresh token was presented again');
      throw invalid;
    }
    const now = new Date().toISOString();
    if (row.expiresAt <= now || row.familyExpiresAt <= now) throw invalid;

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
      return this.insert(manager, grant, row.familyExpiresAt);
    });
    if (refreshToken === undefined) {
      await this.revokeFamily(row, 'a refresh token was exchanged twice concurrently');
      throw invalid;
    }
    return { grant, refreshToken };
  }

  /**
   * Deletes rows that can never be exchanged again: expired, or revoked. Used rows stay until
   * they expire, since presenting one again is how a stolen family is detected. Bounded: at
   * most PURGE_MAX_BATCHES statements of PURGE_BATCH rows; returns how many rows went.
   */
  purge(now = new Date()): Promise<number> {
    this.purging ??= this.purgeBatches(now.toISOString()).finally(() => {
      this.purging = undefined;
    });
    return this.purging;
  }

  private async purgeBatches(now: string): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < PURGE_MAX_BATCHES; batch++) {
      const result = await this.tokens
        .createQueryBuilder()
        .delete()
        .from(RefreshTokenEntity)
        .where(
          `id IN (SELECT id FROM refresh_tokens WHERE expires_at <= :now OR revoked_at IS NOT NULL LIMIT ${PURGE_BATCH})`,
          { now },
        )
        .execute();
      const deleted = result.affected ?? 0;
      total += deleted;
      if (deleted < PURGE_BATCH) break;
    }
    if (total > 0)
      this.logger.debug({ deleted: total }, 'expired and revoked refresh tokens purged');
    return total;
  }

  private async revokeFamily(
    { familyId, subject, clientId }: Pick<RefreshTokenEntity, 'familyId' | 'subject' | 'clientId'>,
    why: string,
  ): Promise<void> {
    await this.tokens.update(
      { familyId, revokedAt: IsNull() },
      { revokedAt: new Date().toISOString() },
    );
    this.logger.warn({ familyId }, `refresh token family revoked: ${why}`);
    this.audit?.record({
      action: 'token.family_revoked',
      outcome: 'ok',
      subject,
      target: clientId,
      detail: { familyId, reason: why },
    });
  }

  private async insert(
    manager: EntityManager,
    grant: RefreshGrant,
    familyExpiresAt: string,
  ): Promise<string> {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const now = Date.now();
    const expiresAt = new Date(
      Math.min(now + this.config.auth.jwt.refreshTokenTtl, Date.parse(familyExpiresAt)),
    );
    await manager.insert(RefreshTokenEntity, {
      id: randomUUID(),
      familyId: grant.familyId,
      clientId: grant.clientId,
      subject: grant.subject,
      scopes: grant.scopes.join(' '),
      lookupHash: this.secrets.refreshTokens.lookupHash(token),
      createdAt: new Date(now).toISOString(),
      expiresAt: expiresAt.toISOString(),
      familyExpiresAt,
      usedAt: null,
      revokedAt: null,
    });
    return token;
  }

  private get tokens() {
    return this.dataSource.getRepository(RefreshTokenEntity);
  }
}
