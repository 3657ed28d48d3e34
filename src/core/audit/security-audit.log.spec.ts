import { DataSource } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { buildDataSourceOptions } from '../database/database-url.js';
import { SecurityAuditLog } from './security-audit.log.js';

describe('SecurityAuditLog', () => {
  let dataSource: DataSource;
  let log: SecurityAuditLog;

  const rows = (): Promise<Array<Record<string, unknown>>> =>
    dataSource.query(`SELECT * FROM "audit_events" ORDER BY "seq"`);

  beforeEach(async () => {
    dataSource = new DataSource(buildDataSourceOptions('sqlite::memory:'));
    await dataSource.initialize();
    log = new SecurityAuditLog(dataSource);
  });

  afterEach(async () => {
    await log.flush();
    if (dataSource.isInitialized) await dataSource.destroy();
  });

  it('writes records in the background, chained, numbered from 1', async () => {
    log.record({
      action: 'client.created',
      outcome: 'ok',
      target: 'ocl_1',
      detail: { name: 'ci' },
    });
    log.record({ action: 'token.issued', outcome: 'ok', subject: 'alice', ip: '10.0.0.1' });
    expect(await rows()).toEqual([]);
    await log.flush();
    const written = await rows();
    expect(written.map((r) => [r.seq, r.action, r.count])).toEqual([
      [1, 'client.created', 1],
      [2, 'token.issued', 1],
    ]);
    expect(written[0].detail).toBe('{"name":"ci"}');
    expect(written[1].hash).toMatch(/^[0-9a-f]{64}$/);
    const [head] = await dataSource.query(`SELECT * FROM "audit_chain_head"`);
    expect(head).toMatchObject({ last_seq: 2, last_hash: written[1].hash });
  });

  it('turns a flood of failed authentications into one record per key with its count', async () => {
    for (let i = 0; i < 5_000; i++) {
      log.record({ action: 'auth.failed', outcome: 'denied', ip: '203.0.113.9' });
    }
    for (let i = 0; i < 3_000; i++) {
      log.record({ action: 'auth.failed', outcome: 'denied', ip: `198.51.${i >> 8}.${i & 255}` });
    }
    await log.flush();
    const written = await rows();
    // 1 for the first address, 999 more distinct ones, then one catch-all (ip "*").
    expect(written).toHaveLength(1_001);
    expect(written.reduce((sum, r) => sum + Number(r.count), 0)).toBe(8_000);
    expect(written.find((r) => r.ip === '203.0.113.9')?.count).toBe(5_000);
    expect(written.find((r) => r.ip === '*')?.count).toBe(3_000 - 999);
  });

  it('never writes secret-named details, and bounds every field', async () => {
    log.record({
      action: 'x'.repeat(500),
      outcome: 'ok',
      subject: 's'.repeat(1000),
      detail: {
        accessToken: 'eyJ…',
        nested: { client_secret: 'ocs_x', ok: 1 },
        big: 'b'.repeat(10),
      },
    });
    log.record({ action: 'tool.approval', outcome: 'ok', detail: { blob: 'z'.repeat(10_000) } });
    await log.flush();
    const [first, second] = await rows();
    expect(String(first.action)).toHaveLength(64);
    expect(String(first.subject)).toHaveLength(255);
    expect(first.detail).toBe(
      '{"accessToken":"[redacted]","big":"bbbbbbbbbb","nested":{"client_secret":"[redacted]","ok":1}}',
    );
    expect(JSON.parse(String(second.detail))).toEqual({ truncated: true, chars: 10_011 });
  });

  it('logs a failed write instead of throwing into the caller', async () => {
    await dataSource.destroy();
    const error = vi.spyOn(log['logger'], 'error').mockImplementation(() => undefined);
    expect(() => log.record({ action: 'client.revoked', outcome: 'ok' })).not.toThrow();
    await log.flush();
    expect(error).toHaveBeenCalledWith(expect.stringContaining('could not be written'));
  });

  it('records nothing without a database', async () => {
    const detached = new SecurityAuditLog();
    detached.record({ action: 'client.created', outcome: 'ok' });
    await detached.flush();
    expect(await rows()).toEqual([]);
  });
});
