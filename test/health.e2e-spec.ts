import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { LifecycleService } from '../src/core/health/lifecycle.service.js';
import { CalculatorModule } from './support/calculator.rpc.js';
import { postRpc, startGateway, type TestGateway } from './support/gateway.js';

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startGateway({}, { imports: [CalculatorModule] });
});
afterAll(() => gateway?.close());

describe('/health, /status and /metrics', () => {
  it('is ready while the database answers', async () => {
    const response = await fetch(`${gateway.baseUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      live: true,
      ready: true,
      checks: { database: 'up' },
    });
  });

  it('reports status with version, uptime, instance and calls per method', async () => {
    await postRpc(gateway.baseUrl, { jsonrpc: '2.0', method: 'get_data', id: 1 });
    const status: any = await (
      await fetch(`${gateway.baseUrl}/status`, { headers: gateway.auth })
    ).json();
    expect(status).toMatchObject({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      instanceId: expect.any(String),
      uptimeSeconds: expect.any(Number),
      connections: { websocket: 0 },
    });
    expect(status.calls.byMethod.get_data).toEqual({ calls: 1, failures: 0 });
  });

  it('exposes Prometheus metrics for calls', async () => {
    const response = await fetch(`${gateway.baseUrl}/metrics`, { headers: gateway.auth });
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/openclaw_rpc_calls_total\{method="get_data",outcome="ok"\} 1/);
    expect(text).toMatch(/openclaw_ws_connections 0/);
  });

  it('turns not ready (503) while draining', async () => {
    const lifecycle = gateway.app.get(LifecycleService);
    lifecycle.startDraining();
    const response = await fetch(`${gateway.baseUrl}/health`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'draining', ready: false });
  });
});

describe('/health with the database gone', () => {
  it('answers 503 with the database down', async () => {
    const other = await startGateway();
    try {
      await other.app.get(DataSource).destroy();
      const response = await fetch(`${other.baseUrl}/health`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ ready: false, checks: { database: 'down' } });
    } finally {
      await other.close().catch(() => undefined);
    }
  });
});

describe('/status and rate limits', () => {
  it('shows rejections per limit', async () => {
    const limited = await startGateway(
      { rateLimit: { client: { limit: 2, ttl: '60s' } } },
      { imports: [CalculatorModule] },
    );
    try {
      for (let i = 0; i < 3; i++) {
        await postRpc(
          limited.baseUrl,
          { jsonrpc: '2.0', method: 'get_data', id: i },
          { headers: limited.auth },
        );
      }
      const status: any = await (
        await fetch(`${limited.baseUrl}/status`, { headers: limited.auth })
      ).json();
      expect(status.rateLimit.rejections.client).toBe(1);
      expect(status.rateLimit.store).toMatchObject({ store: 'memory', available: true });
    } finally {
      await limited.close();
    }
  });
});
