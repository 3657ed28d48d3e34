import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One refresh token of a rotation family. The token itself is only stored encrypted
 * (AES-256-GCM) and found by a keyed hash, so a dump of this table yields nothing usable.
 */
@Entity({ name: 'refresh_tokens' })
@Index('UQ_refresh_tokens_lookup', ['lookupHash'], { unique: true })
@Index('IDX_refresh_tokens_family', ['familyId'])
@Index('IDX_refresh_tokens_client', ['clientId'])
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

  @Column({ name: 'token_ciphertext', type: 'text' })
  tokenCiphertext: string;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt: string;

  @Column({ name: 'expires_at', type: 'varchar', length: 32 })
  expiresAt: string;

  /** Set when the token is exchanged; a second use is a replay and revokes the family. */
  @Column({ name: 'used_at', type: 'varchar', length: 32, nullable: true })
  usedAt: string | null;

  @Column({ name: 'revoked_at', type: 'varchar', length: 32, nullable: true })
  revokedAt: string | null;
}
