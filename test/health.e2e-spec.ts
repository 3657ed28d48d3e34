import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { LifecycleService } from '../src/core/health/lifecycle.service.js';
import { signToken } from './support/auth-tokens.js';
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
      checks: { database: 'up', bus: 'none', rateLimitStore: 'none' },
    });
    const live = await fetch(`${gateway.baseUrl}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok', live: true });
    const ready = await fetch(`${gateway.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', ready: true });
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

  it('serves /status and /metrics to admin or metrics:read only; other tokens get 403', async () => {
    const as = async (scope: string) => ({
      authorization: `Bearer ${await signToken({ sub: 'monitor', scope })}`,
    });
    const monitor = await as('metrics:read');
    const user = await as('sessions:read sessions:write agents:read tools:read tools:execute');
    for (const path of ['/status', '/metrics']) {
      expect((await fetch(`${gateway.baseUrl}${path}`, { headers: monitor })).status).toBe(200);
      const denied = await fetch(`${gateway.baseUrl}${path}`, { headers: user });
      expect(denied.status).toBe(403);
      expect(await denied.json()).toEqual({
        statusCode: 403,
        message: 'Forbidden',
        requiredScope: 'metrics:read',
      });
      expect((await fetch(`${gateway.baseUrl}${path}`)).status).toBe(401);
    }
  });

  it('turns not ready (503) while draining', async () => {
    const lifecycle = gateway.app.get(LifecycleService);
    lifecycle.startDraining();
    const response = await fetch(`${gateway.baseUrl}/health`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'draining', ready: false });
    // Readiness turns at once; liveness does not (a draining process is not to be restarted).
    expect((await fetch(`${gateway.baseUrl}/health/ready`)).status).toBe(503);
    expect((await fetch(`${gateway.baseUrl}/health/live`)).status).toBe(200);
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
      expect((await fetch(`${other.baseUrl}/health/ready`)).status).toBe(503);
      expect((await fetch(`${other.baseUrl}/health/live`)).status).toBe(200);
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
