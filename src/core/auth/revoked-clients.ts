import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { OAuthClientEntity } from './oauth-client.entity.js';
import { setNewest } from '../collections/bounded-map.js';

/** How long "this client is active" is believed before the database is asked again. */
export const CLIENT_STATUS_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

interface Status {
  revoked: boolean;
  /** Epoch ms after which an active status is looked up again. */
  until: number;
}

/**
 * Whether the OAuth client an access token was issued to has been revoked. `clients revoke`
 * marks the client in the database, which every instance reads, so its outstanding access tokens
 * stop working everywhere, until they expire, without a list of tokens. An answer of "active"
 * is remembered for a few seconds (CLIENT_STATUS_TTL_MS); "revoked" is final (client ids are
 * never reused) and is known at once on the instance that revoked it.
 */
@Injectable()
export class RevokedClients {
  private readonly statuses = new Map<string, Status>();
  /** One query per client id at a time, however many calls arrive together. */
  private readonly lookups = new Map<string, Promise<boolean>>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async isRevoked(clientId: string): Promise<boolean> {
    const known = this.statuses.get(clientId);
    if (known && (known.revoked || known.until > this.now())) return known.revoked;
    let lookup = this.lookups.get(clientId);
    if (!lookup) {
      lookup = this.lookUp(clientId).finally(() => this.lookups.delete(clientId));
      this.lookups.set(clientId, lookup);
    }
    return lookup;
  }

  /** True while the client is known to be active (no look-up due); false means "ask isRevoked". */
  knownActive(clientId: string): boolean {
    const known = this.statuses.get(clientId);
    return known !== undefined && !known.revoked && known.until > this.now();
  }

  /** The instance that revoked a client stops its tokens at once. */
  markRevoked(clientId: string): void {
    this.remember(clientId, { revoked: true, until: Infinity });
  }

  protected now(): number {
    return Date.now();
  }

  private async lookUp(clientId: string): Promise<boolean> {
    const row = await this.dataSource
      .getRepository(OAuthClientEntity)
      .findOne({ select: { clientId: true, revokedAt: true }, where: { clientId } });
    // Revoked clients are never deleted: an id not found was never a client here (a host app's
    // own claim), and only revocation is this check's business.
    const revoked = row !== null && row.revokedAt !== null;
    this.remember(clientId, { revoked, until: this.now() + CLIENT_STATUS_TTL_MS });
    return revoked;
  }

  private remember(clientId: string, status: Status): void {
    setNewest(this.statuses, clientId, status, MAX_ENTRIES);
  }
}
