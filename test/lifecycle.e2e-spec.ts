import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { signToken, TEST_SECRET } from './support/auth-tokens.js';
import { ALL_SCOPES, WsTestClient } from './support/gateway.js';

const authHeaders = async () => ({
  authorization: `Bearer ${await signToken({ sub: 'ops', scope: ALL_SCOPES })}`,
});
import { freePort, startNode, type RunningProcess } from './support/process.js';

// These tests run the built dist/ (npm test builds first), which also proves the ESM output boots.
const running: RunningProcess[] = [];
afterEach(() => {
  for (const p of running.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

function gatewayCli(args: string[], env: Record<string, string>, cwd?: string): RunningProcess {
  const p = startNode([join(import.meta.dirname, '../dist/main.js'), ...args], env, cwd);
  running.push(p);
  return p;
}

describe('configuration errors stop the boot', () => {
  it('names the env variable and the key, with no stack trace', async () => {
    const p = gatewayCli(['serve'], { OPENCLAW_PORT: 'eighty' });
    const { code } = await p.exited;
    expect(code).toBe(78);
    expect(p.stderr()).toContain(
      'gateway.port (OPENCLAW_PORT): must be an integer port number (0-65535), got "eighty"',
    );
    expect(p.stderr()).not.toMatch(/\n\s+at /);
  });

  it('names the key of a bad value in openclaw.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openclaw-cli-'));
    writeFileSync(
      join(dir, 'openclaw.json'),
      JSON.stringify({ rateLimit: { client: { limit: 0, ttl: '60s' } } }),
    );
    const p = gatewayCli(['serve'], {}, dir);
    const { code } = await p.exited;
    expect(code).toBe(78);
    expect(p.stderr()).toMatch(/rateLimit\.client\.limit: must not be less than 1, got 0/);
    expect(p.stderr()).not.toMatch(/\n\s+at /);
  });

  it('refuses an unknown command with usage', async () => {
    const p = gatewayCli(['frobnicate'], {});
    expect((await p.exited).code).toBe(2);
    expect(p.stderr()).toMatch(/Unknown command "frobnicate"/);
  });
});

describe('openclaw-gateway migrate', () => {
  it('applies the migrations to a new database and then finds it up to date', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openclaw-migrate-'));
    const env = { OPENCLAW_DATABASE_URL: `sqlite:${join(dir, 'gw.db')}` };
    const first = gatewayCli(['migrate'], env);
    expect((await first.exited).code).toBe(0);
    expect(first.stdout()).toMatch(/Applied \d+ migration/);
    const second = gatewayCli(['migrate'], env);
    expect((await second.exited).code).toBe(0);
    expect(second.stdout()).toMatch(/up to date/);
  });
});

describe('graceful shutdown', () => {
  function startSlowGateway(env: Record<string, string> = {}): RunningProcess {
    const p = startNode([join(import.meta.dirname, 'fixtures/slow-gateway.mjs')], {
      TEST_JWT_SECRET: TEST_SECRET,
      ...env,
    });
    running.push(p);
    return p;
  }

  it('finishes an HTTP call started before SIGTERM, closes WebSockets with 1001 and exits 0', async () => {
    const p = startSlowGateway({ SLOW_MS: '1500' });
    const port = (await p.waitFor(/LISTENING (\d+)/))[1];
    const ws = await WsTestClient.connect(`ws://127.0.0.1:${port}/ws`, {
      headers: await authHeaders(),
    });
    const call = fetch(`http://127.0.0.1:${port}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'slow', id: 7 }),
    }).then((r) => r.json());
    await p.waitFor(/CALL-STARTED/);
    p.child.kill('SIGTERM');

    expect(await call).toEqual({ jsonrpc: '2.0', id: 7, result: 'finished' });
    expect(await ws.closed).toBe(1001);
    expect(await p.exited).toEqual({ code: 0, signal: null });
  });

  it('refuses new connections while draining', async () => {
    const p = startSlowGateway({ SLOW_MS: '1500' });
    const port = (await p.waitFor(/LISTENING (\d+)/))[1];
    const call = fetch(`http://127.0.0.1:${port}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'slow', id: 1 }),
    });
    await p.waitFor(/CALL-STARTED/);
    p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    await expect(
      WsTestClient.connect(`ws://127.0.0.1:${port}/ws`, { headers: await authHeaders() }),
    ).rejects.toThrow();
    expect((await call).status).toBe(200);
    expect((await p.exited).code).toBe(0);
  });

  it('gives up on calls still running at the deadline and still exits 0', async () => {
    const p = startSlowGateway({ SLOW_MS: '20000', SHUTDOWN_TIMEOUT: '300ms' });
    const port = (await p.waitFor(/LISTENING (\d+)/))[1];
    const ws = await WsTestClient.connect(`ws://127.0.0.1:${port}/ws`, {
      headers: await authHeaders(),
    });
    ws.send({ jsonrpc: '2.0', method: 'slow', id: 1 });
    await p.waitFor(/CALL-STARTED/);
    p.child.kill('SIGTERM');
    expect(await ws.closed).toBe(1001);
    expect((await p.exited).code).toBe(0);
  });
});

describe('operator commands', () => {
  it('token mints an access token the gateway accepts, with the scopes asked for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openclaw-token-'));
    const env = {
      OPENCLAW_JWT_SECRET: TEST_SECRET,
      OPENCLAW_DATABASE_URL: `sqlite:${join(dir, 'gw.db')}`,
    };
    const minted = gatewayCli(
      ['token', '--sub', 'ops', '--scope', 'agents:read', '--ttl', '5m'],
      env,
    );
    expect((await minted.exited).code).toBe(0);
    const token = minted.stdout().trim();
    const { payload } = await jwtVerify(token, new TextEncoder().encode(TEST_SECRET));
    expect(payload).toMatchObject({ sub: 'ops', scope: 'agents:read' });
    expect(payload.exp! - payload.iat!).toBe(300);

    const bad = gatewayCli(
      ['token', '--sub', 'ops', '--scope', 'agents:read', '--ttl', 'soon'],
      env,
    );
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr()).toMatch(/--ttl must be a duration/);
    expect(bad.stderr()).not.toMatch(/\n\s+at /);
  });

  it('clients create, list and revoke manage OAuth clients whose secret is shown once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openclaw-clients-'));
    const env = {
      OPENCLAW_JWT_SECRET: TEST_SECRET,
      OPENCLAW_DATABASE_URL: `sqlite:${join(dir, 'gw.db')}`,
    };
    const created = gatewayCli(
      ['clients', 'create', '--name', 'ci-bot', '--scope', 'agents:read'],
      env,
    );
    expect((await created.exited).code).toBe(0);
    const clientId = /client_id:\s+(\S+)/.exec(created.stdout())![1];
    const secret = /client_secret:\s+(\S+)/.exec(created.stdout())![1];

    const listed = gatewayCli(['clients', 'list'], env);
    expect((await listed.exited).code).toBe(0);
    expect(listed.stdout()).toContain(clientId);
    expect(listed.stdout()).not.toContain(secret);

    const revoked = gatewayCli(['clients', 'revoke', '--id', clientId], env);
    expect((await revoked.exited).code).toBe(0);
    const again = gatewayCli(['clients', 'revoke', '--id', clientId], env);
    expect((await again.exited).code).toBe(1);
  });

  it('serve on a fresh directory generates a secret and prints an admin token and dashboard link', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openclaw-fresh-'));
    const port = String(await freePort());
    const p = gatewayCli(['serve'], { OPENCLAW_PORT: port, OPENCLAW_LOG_LEVEL: 'warn' }, dir);
    const link = (await p.waitFor(/Open the dashboard: (\S+)/))[1];
    const url = new URL(link);
    expect(url.search).toBe('');
    const token = new URLSearchParams(url.hash.slice(1)).get('token')!;
    const reply = await fetch(`http://127.0.0.1:${port}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'agent.list', id: 1 }),
    });
    expect(((await reply.json()) as any).result[0].id).toBe('echo');
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
  });
});
