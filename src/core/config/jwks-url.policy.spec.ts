import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { ConfigValidationError } from '../config/config-validation.error.js';
import { loadConfig } from '../config/config.loader.js';

const load = (env: Record<string, string>, jwt: Record<string, unknown> = {}) =>
  loadConfig({ env, ignoreFile: true, overrides: { auth: { jwt } } });

const problems = (env: Record<string, string>, jwt: Record<string, unknown> = {}): string[] => {
  try {
    load(env, jwt);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigValidationError)) throw err;
    return err.message.split('\n');
  }
};

describe('auth.jwt.jwksUrl at boot', () => {
  const trusted = { OPENCLAW_JWT_ISSUER: 'https://idp.corp', OPENCLAW_JWT_AUDIENCE: 'openclaw' };

  it('refuses a JWKS without issuer and audience, naming the key and what is missing', () => {
    const alone = problems({ OPENCLAW_JWKS_URL: 'https://idp.corp/jwks' });
    expect(alone.join('\n')).toMatch(
      /auth\.jwt\.jwksUrl \(OPENCLAW_JWKS_URL\): needs auth\.jwt\.issuer and auth\.jwt\.audience/,
    );
    const noAudience = problems({
      OPENCLAW_JWKS_URL: 'https://idp.corp/jwks',
      OPENCLAW_JWT_ISSUER: 'https://idp.corp',
    });
    expect(noAudience.join('\n')).toMatch(/auth\.jwt\.jwksUrl .*needs auth\.jwt\.audience too/);
  });

  it('refuses plain http except on loopback', () => {
    for (const url of ['http://idp.corp/jwks', 'http://10.0.0.1/jwks', 'ftp://idp.corp/jwks']) {
      expect(problems({ ...trusted, OPENCLAW_JWKS_URL: url }).join('\n')).toMatch(
        /auth\.jwt\.jwksUrl \(OPENCLAW_JWKS_URL\): must be an https:\/\/ URL/,
      );
    }
    for (const url of [
      'https://idp.corp/jwks',
      'http://127.0.0.1:8080/jwks',
      'http://127.8.9.10/jwks',
      'http://[::1]:9000/jwks',
      'http://localhost/jwks',
    ]) {
      expect(load({ ...trusted, OPENCLAW_JWKS_URL: url }).auth.jwt.jwksUrl).toBe(url);
    }
  });

  it('takes the same rule from openclaw.json and code, and needs nothing without a JWKS', () => {
    expect(problems({}, { jwksUrl: 'https://idp.corp/jwks', issuer: 'x' }).join('\n')).toMatch(
      /^ {2}- auth\.jwt\.jwksUrl: needs auth\.jwt\.audience too/m,
    );
    expect(load({}).auth.jwt.jwksUrl).toBeUndefined();
  });

  it('refuses a roleScopes entry that is not a list of scopes', () => {
    expect(problems({}, { roleScopes: { reader: 'sessions:read' } }).join('\n')).toMatch(
      /auth\.jwt\.roleScopes: must map each role to an array of scope strings/,
    );
  });
});
