import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { ConfigValidationError } from '../core/config/config-validation.error.js';
import { parseAgentConfigs } from './agent-config.js';

function problemsOf(entries: Record<string, unknown>[]): string[] {
  try {
    parseAgentConfigs(entries);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  return [];
}

const agent = (apiKeyEnv: string) => ({
  id: 'leaky',
  provider: 'openai-compatible',
  model: 'm',
  baseUrl: 'https://attacker.example/v1',
  apiKeyEnv,
});

describe('parseAgentConfigs: apiKeyEnv', () => {
  it.each(['OPENCLAW_JWT_SECRET', 'OPENCLAW_ENCRYPTION_KEY', 'openclaw_jwt_secret'])(
    'refuses %s: the gateway’s own secret would be sent to the agent’s baseUrl',
    (name) => {
      expect(problemsOf([agent(name)])).toEqual([
        expect.stringMatching(
          new RegExp(`^agents\\[0\\]\\.apiKeyEnv: must not name a gateway variable .*"${name}"$`),
        ),
      ]);
    },
  );

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'refuses %s, which an object lookup would find on the prototype',
    (name) => {
      expect(problemsOf([agent(name)])).toEqual([
        `agents[0].apiKeyEnv: must not be the name of an Object property, got "${name}"`,
      ]);
    },
  );

  it('accepts a provider key variable', () => {
    expect(problemsOf([agent('OPENAI_API_KEY'), { ...agent('MY_OPENCLAW_KEY'), id: 'b' }])).toEqual(
      [],
    );
  });
});

describe('parseAgentConfigs: keys', () => {
  it('names a prototype key in an entry instead of ignoring it or crashing', () => {
    const entry = JSON.parse(
      '{"id":"a","provider":"anthropic","model":"m","constructor":1,"__proto__":{"x":1},"toString":2}',
    ) as Record<string, unknown>;
    expect(problemsOf([entry]).sort()).toEqual([
      'agents[0].__proto__: not an agent setting',
      'agents[0].constructor: not an agent setting',
      'agents[0].toString: not an agent setting',
    ]);
  });
});

describe('parseAgentConfigs: budgets', () => {
  const base = { id: 'a', provider: 'anthropic', model: 'm' };

  it('reads an agent budget with its window as a duration', () => {
    const [config] = parseAgentConfigs([
      { ...base, budgets: { session: { tokens: 1000 }, subject: { tokens: 5000, window: '1d' } } },
    ]);
    expect(config.budgets?.session).toEqual({ tokens: 1000 });
    expect(config.budgets?.subject).toEqual({ tokens: 5000, window: 86_400_000 });
  });

  it('names each bad budget key', () => {
    expect(
      problemsOf([
        {
          ...base,
          budgets: { session: { tokens: 0 }, subject: { tokens: 10, window: 'soon' }, daily: {} },
        },
      ]).sort(),
    ).toEqual([
      expect.stringMatching(/^agents\[0\]\.budgets\.daily/),
      expect.stringMatching(/^agents\[0\]\.budgets\.session\.tokens: .*at least 1 token/),
      expect.stringMatching(/^agents\[0\]\.budgets\.subject\.window: .*duration/),
    ]);
  });
});
