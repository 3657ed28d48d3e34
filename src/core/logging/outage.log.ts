import type { Logger } from '@nestjs/common';

/**
 * The state of a connection to a store (Redis, PostgreSQL) as its outages come and go: logged
 * once when one starts and once when it ends, with how long it lasted, never once per failed
 * call, so that an outage under load does not flood the log.
 */
export class OutageLog {
  private downSince?: Date;

  constructor(
    private readonly logger: Logger,
    /** What is unreachable, for the log lines: `event bus (Redis)`. */
    private readonly what: string,
    /** Said after "unreachable": what happens meanwhile. */
    private readonly meanwhile = '',
  ) {}

  get down(): boolean {
    return this.downSince !== undefined;
  }

  /** For status reports: whether the store answers, and since when it does not. */
  availability(): { available: boolean; unavailableSince?: string } {
    return this.downSince
      ? { available: false, unavailableSince: this.downSince.toISOString() }
      : { available: true };
  }

  /** Records a failure; true when it starts an outage. */
  failed(err: unknown): boolean {
    if (this.downSince) return false;
    this.downSince = new Date();
    const message = err instanceof Error ? err.message : String(err);
    this.logger.error(
      { err: { message } },
      `${this.what} unreachable${this.meanwhile ? `; ${this.meanwhile}` : ''}`,
    );
    return true;
  }

  /** Records a success; true when it ends an outage. */
  recovered(): boolean {
    if (!this.downSince) return false;
    const outageMs = Date.now() - this.downSince.getTime();
    this.downSince = undefined;
    this.logger.log({ outageMs }, `${this.what} reachable again`);
    return true;
  }
}
