import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A client of the token endpoint (client_credentials). Only a slow hash of its secret is
 * stored. Timestamps are ISO 8601 UTC strings, as elsewhere in the schema.
 */
@Entity({ name: 'oauth_clients' })
export class OAuthClientEntity {
  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 64 })
  clientId: string;

  @Column({ name: 'name', type: 'varchar', length: 255 })
  name: string;

  @Column({ name: 'secret_hash', type: 'varchar', length: 255 })
  secretHash: string;

  /** Space-separated scopes the client may be granted, never more. */
  @Column({ name: 'scopes', type: 'text' })
  scopes: string;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt: string;

  @Column({ name: 'revoked_at', type: 'varchar', length: 32, nullable: true })
  revokedAt: string | null;
}
