import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { OTHER_SUBJECTS, UsageMeter } from './usage.meter.js';

const tokens = (n: number) => ({ inputTokens: n - 1, outputTokens: 1, totalTokens: n });

describe('UsageMeter', () => {
  it('labels the first usage.topSubjects subjects and counts every later one as "other"', () => {
    const config = new GatewayConfig();
    config.usage.topSubjects = 2;
    const meter = new UsageMeter(config);
    for (let i = 0; i < 1000; i++) meter.count('llm', `subject-${i}`, tokens(10));
    meter.count('llm', 'subject-0', tokens(5));

    const { agents, subjects } = meter.snapshot();
    expect(agents).toEqual([
      { label: 'llm', inputTokens: 9004, outputTokens: 1001, totalTokens: 10005 },
    ]);
    expect(subjects.map((s) => s.label)).toEqual(['subject-0', 'subject-1', OTHER_SUBJECTS]);
    expect(subjects.find((s) => s.label === 'subject-0')?.totalTokens).toBe(15);
    expect(subjects.find((s) => s.label === OTHER_SUBJECTS)?.totalTokens).toBe(998 * 10);
  });
});
