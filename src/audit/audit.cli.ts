import { DataSource } from 'typeorm';

import type { GatewayConfig } from '../core/config/gateway-config.js';
import { buildDataSourceOptions } from '../core/database/database-url.js';
import { AuditChainReader } from './audit-chain.reader.js';
import { AuditChainVerifier, describeReport } from './audit-chain.verifier.js';
import { exportAudit, type AuditExportOptions } from './audit-export.js';

// What `openclaw-gateway audit verify|export` run: a data source of their own, plain SQL.

async function withReader<T>(
  config: GatewayConfig,
  run: (reader: AuditChainReader) => Promise<T>,
): Promise<T> {
  const dataSource = new DataSource(
    buildDataSourceOptions(config.database.url, { migrationsRun: config.database.migrationsRun }),
  );
  await dataSource.initialize();
  try {
    return await run(new AuditChainReader(dataSource));
  } finally {
    await dataSource.destroy();
  }
}

/**
 * `audit verify [--session KEY]`: every session's chain and the security log (or one session's
 * chain), one line per broken chain and a summary; exit code 1 when any is broken, 3 when the
 * session does not exist.
 */
export function verifyAudit(
  config: GatewayConfig,
  options: { sessionKey?: string },
  write: (line: string) => void = (line) => console.log(line),
): Promise<number> {
  return withReader(config, async (reader) => {
    const verifier = new AuditChainVerifier(reader);
    if (options.sessionKey) {
      const report = await verifier.verifySession(options.sessionKey);
      if (!report) {
        write(`No session ${options.sessionKey}.`);
        return 3;
      }
      write(describeReport(report));
      return report.ok ? 0 : 1;
    }
    let chains = 0;
    let broken = 0;
    for await (const report of verifier.verifyAllSessions()) {
      chains++;
      if (!report.ok) {
        broken++;
        write(describeReport(report));
      }
    }
    const security = await verifier.verifySecurityLog();
    if (!security.ok) broken++;
    write(describeReport(security));
    write(
      broken === 0
        ? `Verified: ${chains} session chain(s) and the security log are intact.`
        : `${broken} chain(s) broken.`,
    );
    return broken === 0 ? 0 : 1;
  });
}

/**
 * `audit export [--since T] [--session KEY]`: JSON Lines through `write`; exit code 0, or 3 (and
 * nothing written) when the session does not exist.
 */
export function exportAuditLines(
  config: GatewayConfig,
  options: AuditExportOptions,
  write: (line: string) => void | Promise<void>,
  warn: (line: string) => void = (line) => console.error(line),
): Promise<number> {
  return withReader(config, async (reader) => {
    if (options.sessionKey && !(await reader.session(options.sessionKey))) {
      warn(`No session ${options.sessionKey}.`);
      return 3;
    }
    await exportAudit(reader, options, write);
    return 0;
  });
}
