import 'reflect-metadata';
import { afterEach, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { GatewayConfig } from './core/config/gateway-config.js';
import { GatewayBuilder } from './gateway.builder.js';

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';

describe('GatewayBuilder.withConfig', () => {
  let app: NestFastifyApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function configOf(builder: GatewayBuilder): Promise<GatewayConfig> {
    app = await builder
      .isolated()
      .withConfig({ database: { url: 'sqlite::memory:' }, log: { level: 'silent' } })
      .build();
    return app.get(GatewayConfig);
  }

  it('keeps keys set by an earlier call at every depth', async () => {
    const config = await configOf(
      new GatewayBuilder()
        .withConfig({ auth: { jwt: { secret: SECRET } } })
        .withConfig({ auth: { jwt: { issuer: 'https://issuer.example' } } })
        .withRateLimit({ client: { limit: 5, ttl: 1_000 } })
        .withRateLimit({ session: { limit: 7, ttl: 2_000 } }),
    );

    expect(config.auth.jwt.secret).toBe(SECRET);
    expect(config.auth.jwt.issuer).toBe('https://issuer.example');
    expect(config.rateLimit.client).toMatchObject({ limit: 5, ttl: 1_000 });
    expect(config.rateLimit.session).toMatchObject({ limit: 7, ttl: 2_000 });
  });

  it('replaces arrays whole instead of merging them by index', async () => {
    const agent = (id: string) => ({
      id,
      provider: 'openai-compatible',
      model: 'm',
      baseUrl: 'http://127.0.0.1:1',
    });
    const config = await configOf(
      new GatewayBuilder()
        .withConfig({
          auth: { jwt: { secret: SECRET } },
          agents: [agent('first'), agent('second')],
        })
        .withConfig({ agents: [agent('third')] }),
    );

    expect(config.agents.map((entry) => entry.id)).toEqual(['third']);
  });

  it('ignores a __proto__ key instead of reaching the prototype', async () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "auth": {"jwt": {}}}') as object;
    const config = await configOf(
      new GatewayBuilder().withConfig({ auth: { jwt: { secret: SECRET } } }).withConfig(hostile),
    );

    expect(config.auth.jwt.secret).toBe(SECRET);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
