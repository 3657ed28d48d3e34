import 'reflect-metadata';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigValidationError } from './config-validation.error.js';
import { loadConfig } from './config.loader.js';

function dirWith(json: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'openclaw-config-'));
  writeFileSync(join(dir, 'openclaw.json'), typeof json === 'string' ? json : JSON.stringify(json));
  return dir;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return (error as ConfigValidationError).problems;
  }
  throw new Error('expected a ConfigValidationError');
}

describe('loadConfig', () => {
  it('returns the documented defaults with no file and no env', () => {
    const config = loadConfig({ env: {}, ignoreFile: true });
    expect(config.gateway.host).toBe('127.0.0.1');
    expect(config.gateway.port).toBe(18789);
    expect(config.gateway.maxBatchSize).toBe(50);
    expect(config.gateway.bodyLimit).toBe(1024 * 1024);
    expect(config.database.url).toBe('sqlite:./data/openclaw.db');
    expect(config.rateLimit.client).toMatchObject({ limit: 60, ttl: 60_000 });
    expect(config.rateLimit.session).toMatchObject({ limit: 30, ttl: 60_000 });
    expect(config.ws.maxInFlight).toBe(32);
    expect(config.redis.url).toBeUndefined();
  });

  it('layers defaults < openclaw.json < code overrides < env', () => {
    const cwd = dirWith({ gateway: { port: 1000, host: '0.0.0.0' }, sessions: { queueSize: 3 } });
    const config = loadConfig({
      cwd,
      env: { OPENCLAW_PORT: '2000' },
      overrides: { gateway: { host: '127.0.0.2' }, sessions: { queueSize: 4 } },
    });
    expect(config.gateway.port).toBe(2000);
    expect(config.gateway.host).toBe('127.0.0.2');
    expect(config.sessions.queueSize).toBe(4);
  });

  it('accepts durations as "60s", "1h" or milliseconds', () => {
    const config = loadConfig({
      env: {},
      ignoreFile: true,
      overrides: {
        rateLimit: { client: { limit: 5, ttl: '2m' }, session: { limit: 3, ttl: 1500 } },
        auth: { jwt: { accessTokenTtl: '1h' } },
        gateway: { shutdownTimeout: '10s' },
      },
    });
    expect(config.rateLimit.client.ttl).toBe(120_000);
    expect(config.rateLimit.session.ttl).toBe(1500);
    expect(config.auth.jwt.accessTokenTtl).toBe(3_600_000);
    expect(config.gateway.shutdownTimeout).toBe(10_000);
  });

  it('names the key and the env variable of a bad env value', () => {
    const problems = problemsOf(() =>
      loadConfig({ env: { OPENCLAW_PORT: 'abc' }, ignoreFile: true }),
    );
    expect(problems).toEqual([
      'gateway.port (OPENCLAW_PORT): must be an integer port number (0-65535), got "abc"',
    ]);
  });

  it('names the key of a bad openclaw.json value and says what is expected', () => {
    const cwd = dirWith({ rateLimit: { client: { limit: 60, ttl: 'soon' } } });
    const problems = problemsOf(() => loadConfig({ cwd, env: {} }));
    expect(problems).toEqual([
      'rateLimit.client.ttl: must be a duration such as "60s", "1h" or milliseconds, got "soon"',
    ]);
  });

  it('reads budgets with windows, and names a bad budget key', () => {
    const config = loadConfig({
      cwd: dirWith({
        budgets: { session: { tokens: 500 }, subject: { tokens: 9000, window: '1d' } },
      }),
      env: {},
    });
    expect(config.budgets.session).toEqual({ tokens: 500 });
    expect(config.budgets.subject).toEqual({ tokens: 9000, window: 86_400_000 });
    expect(loadConfig({ env: {}, ignoreFile: true }).budgets).toEqual({});

    const cwd = dirWith({ budgets: { subject: { tokens: -1, window: 'daily' } } });
    expect(problemsOf(() => loadConfig({ cwd, env: {} })).sort()).toEqual([
      expect.stringMatching(/^budgets\.subject\.tokens: must be at least 1 token/),
      expect.stringMatching(/^budgets\.subject\.window: must be a duration/),
    ]);
  });

  it('refuses unknown keys so that typos do not pass silently', () => {
    const cwd = dirWith({ gateway: { prot: 1 } });
    expect(problemsOf(() => loadConfig({ cwd, env: {} }))[0]).toMatch(/^gateway\.prot: /);
  });

  it('never prints a secret in an error', () => {
    const problems = problemsOf(() =>
      loadConfig({ env: { OPENCLAW_JWT_SECRET: 'too-short-secret' }, ignoreFile: true }),
    );
    expect(problems).toEqual(['auth.jwt.secret (OPENCLAW_JWT_SECRET): must be at least 32 bytes']);
    expect(problems.join()).not.toContain('too-short-secret');
  });

  it('reports malformed JSON in openclaw.json', () => {
    const cwd = dirWith('{ "gateway": ');
    expect(problemsOf(() => loadConfig({ cwd, env: {} }))[0]).toMatch(/not valid JSON/);
  });

  it('reports an OPENCLAW_CONFIG path that does not exist', () => {
    const problems = problemsOf(() =>
      loadConfig({ env: { OPENCLAW_CONFIG: '/nonexistent/openclaw.json' } }),
    );
    expect(problems[0]).toMatch(/^OPENCLAW_CONFIG: cannot read/);
  });

  it('refuses keys named like Object properties anywhere, naming their path', () => {
    const cwd = dirWith(
      '{"mcpServers":{"constructor":{"command":"x"},"a":{"command":"y","env":{"__proto__":"1"}}},' +
        '"agents":[{"id":"x","toString":"y"}]}',
    );
    expect(problemsOf(() => loadConfig({ cwd, env: {} })).sort()).toEqual(
      [
        'agents[0].toString: this key name is not accepted (an Object property)',
        'mcpServers.a.env.__proto__: this key name is not accepted (an Object property)',
        'mcpServers.constructor: this key name is not accepted (an Object property)',
      ].sort(),
    );
    const fromCode = problemsOf(() =>
      loadConfig({
        env: {},
        ignoreFile: true,
        overrides: { auth: { jwt: { roleScopes: { constructor: ['admin'] } } } },
      }),
    );
    expect(fromCode).toEqual([
      'auth.jwt.roleScopes.constructor: this key name is not accepted (an Object property)',
    ]);
  });

  it("accepts the README's example configuration as it is", () => {
    const readme = readFileSync(join(import.meta.dirname, '../../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration'));
    const json = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
    expect(json).toBeDefined();
    const config = loadConfig({ cwd: dirWith(json), env: {} });
    expect(config.sessions.turnWaitTimeout).toBe(120_000);
    expect(config.auth.jwt.refreshFamilyTtl).toBe(90 * 86_400_000);
    expect(config.budgets.subject).toEqual({ tokens: 2_000_000, window: 86_400_000 });
  });
});
