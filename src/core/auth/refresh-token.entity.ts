import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One refresh token of a rotation family. Only a keyed hash of the token is stored (it is never
 * read back, only looked up), so a dump of this table yields nothing usable.
 */
@Entity({ name: 'refresh_tokens' })
@Index('UQ_refresh_tokens_lookup', ['lookupHash'], { unique: true })
@Index('IDX_refresh_tokens_family', ['familyId'])
@Index('IDX_refresh_tokens_client', ['clientId'])
@Index('IDX_refresh_tokens_expires', ['expiresAt'])
export class RefreshTokenEntity {
  @PrimaryColumn({ name: 'id', type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'family_id', type: 'varchar', length: 36 })
  familyId: string;

  @Column({ name: 'client_id', type: 'varchar', length: 64 })
  clientId: string;

  @Column({ name: 'subject', type: 'varchar', length: 255 })
  subject: string;

  /** Space-separated scopes of the original grant. */
  @Column({ name: 'scopes', type: 'text' })
  scopes: string;

  /** HMAC-SHA256 of the token (hex), keyed from auth.encryptionKey. */
  @Column({ name: 'lookup_hash', type: 'varchar', length: 64 })
  lookupHash: string;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt: string;

  @Column({ name: 'expires_at', type: 'varchar', length: 32 })
  expiresAt: string;

  /** When the family's grant ends, however often it rotates (auth.jwt.refreshFamilyTtl). */
  @Column({ name: 'family_expires_at', type: 'varchar', length: 32 })
  familyExpiresAt: string;

  /** Set when the token is exchanged; a second use is a replay and revokes the family. */
  @Column({ name: 'used_at', type: 'varchar', length: 32, nullable: true })
  usedAt: string | null;

  @Column({ name: 'revoked_at', type: 'varchar', length: 32, nullable: true })
  revokedAt: string | null;
}
