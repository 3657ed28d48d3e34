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
